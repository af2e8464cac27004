"""Interactive explorers for JupyterLab and Colab (ipywidgets): convolution and activations."""
