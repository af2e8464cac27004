"""Looking at trained models: metrics, interpretation (Grad-CAM and Captum's attributions),
measurements inside a network (gradient norms, activation spreads), segmentation scores, and the
architecture zoo measured from torchvision's reference models.
"""
