"""Thin aiogram routers, one package per area; each package's `setup` plugs the area in."""
