"""The face networks' builders and runtimes: dlib's file read with numpy, its ResNet laid out for
onnxruntime, numpy and TensorFlow, YuNet's graph laid out from libfacedetection's weights, and the
shared onnxruntime and TensorFlow set-up. The pipeline's stages (detectors, embedders) use them."""
