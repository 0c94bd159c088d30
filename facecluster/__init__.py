"""facecluster: sort a folder of photos by the person in them, and measure how well it did."""

__version__ = "0.1.0"
