"""System of Solidarity: cases raised by members, reviewed by the secretariat, issued as urgent
alerts that members see, act on and sign."""
