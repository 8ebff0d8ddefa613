"""A small Keras residual network, to translate with `slimify examples/keras_residual.py --diff --to torch`."""
import keras
from keras import layers


def build_model():
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(16, 3, strides=2, padding='same', activation='relu')(inputs)
    shortcut = x
    y = layers.Conv2D(16, 3, padding='same', use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.Activation('relu')(y)
    y = layers.Conv2D(16, 3, padding='same', use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    x = layers.Add()([shortcut, y])
    x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs, outputs)
