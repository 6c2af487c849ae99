"""Image recognition: LeNet-5 and a depthwise-separable edge net (the paper's Fig. 2 ConvNets)."""

from deepedge.apps.image_recognition.backbones import EdgeNetBackbone, LeNet5Backbone
from deepedge.apps.image_recognition.image_classifier import ImageClassifier

__all__ = ["EdgeNetBackbone", "ImageClassifier", "LeNet5Backbone"]
