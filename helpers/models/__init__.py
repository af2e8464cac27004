"""The networks, in PyTorch: the lecture's MLP, LeNet-5 and CIFAR CNN, the classic architectures'
building blocks, SE and CBAM attention, small ResNets, deep MLPs for Part III, and 1-D/3-D CNNs
and a tiny U-Net for Part XI.
"""
