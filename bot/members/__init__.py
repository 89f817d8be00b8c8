"""Members of the network: joining, approval, and what is stored about each of them."""
