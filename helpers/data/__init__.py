"""Data: the real data sets (MNIST, Fashion-MNIST, CIFAR-10) with clear errors offline, image
folders, labelled stand-ins for quick mode, generated data (signals, DNA, volumes, masks),
subsets for transfer learning, and sample photos.
"""
