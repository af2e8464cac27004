"""Every figure of the book, and only figures: each function takes data (and ``ax=None``), draws,
and returns the axes; none reads a notebook's variables.
"""
