#include <sys/stat.h>

#include "dnnsplit/dataset.h"
#include "dnnsplit/error.h"
#include "idx.h"

namespace dnnsplit {

namespace {

constexpr int64_t kSide = 28;
constexpr int64_t kCnvSide = 32;
constexpr int64_t kCnvPad = (kCnvSide - kSide) / 2;

bool file_exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

void check_range(const Dataset& data, int64_t begin, int64_t count) {
  check(begin >= 0 && count >= 0 && begin <= data.count && count <= data.count - begin,
        "images [" + std::to_string(begin) + ", " + std::to_string(begin + count) + ") requested from a dataset of " +
            std::to_string(data.count));
  check(data.rows == kSide && data.cols == kSide, "model inputs are made from 28x28 images, the dataset has " +
                                                      std::to_string(data.rows) + "x" + std::to_string(data.cols));
}

}  // namespace

Dataset load_fashion_mnist(const std::string& split, int64_t limit, const std::string& directory) {
  check(split == "test" || split == "train", "unknown Fashion-MNIST split '" + split + "' (expected test or train)");
  const std::string prefix = directory + "/" + (split == "test" ? "t10k" : "train");
  const std::string images_path = prefix + "-images-idx3-ubyte.gz";
  const std::string labels_path = prefix + "-labels-idx1-ubyte.gz";
  for (const auto& path : {images_path, labels_path}) {
    check(file_exists(path), "Fashion-MNIST file '" + path +
                                 "' not found; install the Debian package "
                                 "dataset-fashion-mnist (sudo apt-get install dataset-fashion-mnist)");
  }
  const io::IdxArray labels = io::read_idx_ubyte(labels_path, 1, limit);
  const io::IdxArray images = io::read_idx_ubyte(images_path, 3, limit);
  check(images.dims[0] == labels.dims[0], images_path + " declares " + std::to_string(images.dims[0]) + " images but " +
                                              labels_path + " declares " + std::to_string(labels.dims[0]) + " labels");
  check(images.dims[1] == kSide && images.dims[2] == kSide,
        images_path + ": images are " + std::to_string(images.dims[1]) + "x" + std::to_string(images.dims[2]) +
            ", Fashion-MNIST images are 28x28");
  for (size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] >= kFashionMnistClasses) {
      throw Error(labels_path + ": label " + std::to_string(i) + " is " + std::to_string(labels.data[i]) +
                  ", not a class 0..9");
    }
  }
  Dataset data;
  data.count = images.items_read;
  data.rows = kSide;
  data.cols = kSide;
  data.pixels = images.data;
  data.labels = labels.data;
  return data;
}

Tensor cnv_input(const Dataset& data, int64_t begin, int64_t count) {
  check_range(data, begin, count);
  Tensor t = Tensor::zeros(ElemType::kFloat, {count, 3, kCnvSide, kCnvSide});
  const auto plane = static_cast<size_t>(kCnvSide * kCnvSide);
  for (int64_t n = 0; n < count; ++n) {
    const uint8_t* image = data.pixels.data() + (begin + n) * kSide * kSide;
    float* out = t.f32.data() + static_cast<size_t>(n) * 3 * plane;
    for (int64_t y = 0; y < kSide; ++y) {
      for (int64_t x = 0; x < kSide; ++x) {
        const auto at = static_cast<size_t>((y + kCnvPad) * kCnvSide + x + kCnvPad);
        const auto v = static_cast<float>(image[y * kSide + x]);
        for (size_t c = 0; c < 3; ++c) out[c * plane + at] = v;
      }
    }
  }
  return t;
}

Tensor mnist_input(const Dataset& data, int64_t begin, int64_t count) {
  check_range(data, begin, count);
  const auto first = data.pixels.begin() + begin * kSide * kSide;
  return Tensor::from_floats({count, 1, kSide, kSide}, std::vector<float>(first, first + count * kSide * kSide));
}

}  // namespace dnnsplit
