import tensorflow.compat.v1 as tf
import tf_slim as slim


def net(images):
    net = slim.conv2d(images, 64, [3, 3], scope='conv1')
    net = slim.conv2d(net, 128, [3, 3], stride=2, padding='VALID', scope='conv2')
    return slim.conv2d(net, 10, [1, 1], activation_fn=None, scope='logits')
