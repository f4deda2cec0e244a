// Fashion-MNIST (gzip'd IDX files of the Debian package dataset-fashion-mnist), turning its images
// into model inputs, and reading class rankings off a classifier's output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dnnsplit/ir.h"
#include "dnnsplit/tensor.h"

namespace dnnsplit {

// Where the Debian package puts the files.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
inline constexpr int kFashionMnistClasses = 10;
// Label i names class i (from the dataset's README).
inline constexpr const char* kFashionMnistClassNames[kFashionMnistClasses] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

struct Dataset {
  int64_t count = 0;            // number of images
  int64_t rows = 0;             // 28
  int64_t cols = 0;             // 28
  std::vector<uint8_t> pixels;  // count * rows * cols grey values, row-major, 0 = background
  std::vector<uint8_t> labels;  // count class indices, 0..9
};

// Loads the "test" (10,000 images) or "train" (60,000) split from <directory>/{t10k,train}-
// {images-idx3,labels-idx1}-ubyte.gz (plain, uncompressed IDX files are read too). limit < 0
// reads everything; otherwise the first min(limit, count) images, decompressing no further.
// Throws Error naming the file: missing files (with the apt-get hint), bad magic, wrong
// dimensions, truncated or corrupt gzip, image/label count mismatch, labels outside 0..9.
// Bytes after the declared items are rejected when the whole file is read.
Dataset load_fashion_mnist(const std::string& split, int64_t limit = -1,
                           const std::string& directory = kFashionMnistDir);

// Images [begin, begin + count) as a float32 NCHW tensor holding the integer grey values 0..255
// (the models take UINT8 values as float):
//   cnv_input:   (count, 3, 32, 32): 2 zero pixels of padding on each side, grey replicated to
//                the 3 channels, the input CNV-style networks expect;
//   mnist_input: (count, 1, 28, 28): the raw image.
Tensor cnv_input(const Dataset& data, int64_t begin, int64_t count);
Tensor mnist_input(const Dataset& data, int64_t begin, int64_t count);

// True when graph output `output_position` is the indices output of a TopK node: its values
// then already are class indices, best first (FINN's exported classifiers end like this).
bool output_is_topk_indices(const ir::Graph& graph, int output_position);

// The k best classes of every image (dimension 0 of `output`), best first; ties go to the lower
// index. With indices_given the values are taken as class indices already ranked (see above)
// and the first k of each row are returned. Throws Error when an image has fewer than k scores.
std::vector<std::vector<int64_t>> top_classes(const Tensor& output, int64_t k, bool indices_given);

// Checks `given` against graph input `input_position` (same rank, same extents except the batch
// dimension 0, which may be any N >= 1) and converts it exactly to the input's element type.
// Throws Error naming `what`, the model input and both shapes.
Tensor prepare_model_input(const ir::Graph& graph, int input_position, const Tensor& given, const std::string& what);

}  // namespace dnnsplit
