// Fashion-MNIST loader on tiny IDX files written here (good and each kind of corruption), on the
// real Debian test set when installed, and the CNV / MNIST input layouts.
#include "dnnsplit/dataset.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>

#include "idx_test_util.h"
#include "io_test_util.h"

namespace dnnsplit {
namespace {

using test::expect_error;
using test::gzip;
using test::idx;
using test::TempDir;

// Pixel value of image n at (y, x) in the synthetic set.
uint8_t pixel(int n, int y, int x) {
  return static_cast<uint8_t>((n * 7 + y * 28 + x) % 256);
}

std::string synthetic_images(int count) {
  std::string data;
  for (int n = 0; n < count; ++n) {
    for (int y = 0; y < 28; ++y) {
      for (int x = 0; x < 28; ++x) data += static_cast<char>(pixel(n, y, x));
    }
  }
  return data;
}

struct Files {
  std::string images;  // raw file bytes (already gzip'd unless a test wants otherwise)
  std::string labels;
};

Files good_files() {
  return {gzip(idx({3, 28, 28}, synthetic_images(3))), gzip(idx({3}, std::string{3, 0, 9}))};
}

void write_split(const TempDir& dir, const Files& files, const std::string& prefix = "t10k") {
  test::write_bytes(dir.path() + "/" + prefix + "-images-idx3-ubyte.gz", files.images);
  test::write_bytes(dir.path() + "/" + prefix + "-labels-idx1-ubyte.gz", files.labels);
}

TEST(FashionMnist, LoadsSyntheticFiles) {
  const TempDir dir;
  write_split(dir, good_files());
  const Dataset data = load_fashion_mnist("test", -1, dir.path());
  EXPECT_EQ(data.count, 3);
  EXPECT_EQ(data.rows, 28);
  EXPECT_EQ(data.cols, 28);
  EXPECT_EQ(data.labels, (std::vector<uint8_t>{3, 0, 9}));
  ASSERT_EQ(data.pixels.size(), 3U * 784U);
  EXPECT_EQ(data.pixels[0], pixel(0, 0, 0));
  EXPECT_EQ(data.pixels[784 + 5 * 28 + 6], pixel(1, 5, 6));
  EXPECT_EQ(data.pixels[2 * 784 + 27 * 28 + 27], pixel(2, 27, 27));

  const Dataset two = load_fashion_mnist("test", 2, dir.path());
  EXPECT_EQ(two.count, 2);
  EXPECT_EQ(two.labels, (std::vector<uint8_t>{3, 0}));
  EXPECT_EQ(two.pixels.size(), 2U * 784U);
  EXPECT_EQ(load_fashion_mnist("test", 99, dir.path()).count, 3);
}

TEST(FashionMnist, ReadsTrainSplitAndUncompressedFiles) {
  const TempDir dir;
  write_split(dir, {idx({1, 28, 28}, synthetic_images(1)), idx({1}, std::string{4})}, "train");
  const Dataset data = load_fashion_mnist("train", -1, dir.path());
  EXPECT_EQ(data.labels, std::vector<uint8_t>{4});
  EXPECT_EQ(data.pixels[100], pixel(0, 3, 16));
}

TEST(FashionMnist, RejectsCorruptFiles) {
  const std::string images3 = synthetic_images(3);
  const std::string labels3 = std::string{3, 0, 9};
  const std::string good_images = gzip(idx({3, 28, 28}, images3));
  const std::string good_labels = gzip(idx({3}, labels3));
  std::string bad_crc = good_images;
  bad_crc[bad_crc.size() - 8] ^= 0x55;  // the gzip trailer's CRC-32
  struct Case {
    std::string name;
    Files files;
    std::vector<std::string> parts;
  };
  const std::vector<Case> cases = {
      {"bad magic",
       {gzip(std::string("\x00\x01\x08\x03", 4) + idx({3, 28, 28}, images3).substr(4)), good_labels},
       {"images-idx3", "not an IDX file"}},
      {"float type", {gzip(idx({3, 28, 28}, images3, 0x0D)), good_labels}, {"images-idx3", "type 0x0d"}},
      {"images 2-d", {gzip(idx({3, 784}, images3)), good_labels}, {"images-idx3", "2 dimensions, expected 3"}},
      {"labels 2-d", {good_images, gzip(idx({3, 1}, labels3))}, {"labels-idx1", "2 dimensions, expected 1"}},
      {"27x28", {gzip(idx({3, 27, 28}, images3.substr(0, 3 * 27 * 28))), good_labels}, {"images-idx3", "27x28"}},
      {"zero images", {gzip(idx({0, 28, 28}, "")), gzip(idx({0}, ""))}, {"dimension 0 is 0"}},
      {"truncated gzip",
       {good_images.substr(0, good_images.size() / 2), good_labels},
       {"images-idx3", "truncated or corrupt"}},
      {"short data",
       {gzip(idx({3, 28, 28}, images3.substr(0, 2 * 784))), good_labels},
       {"images-idx3", "needs 2352 bytes", "ends early"}},
      {"huge count",
       {gzip(idx({2000000000, 28, 28}, images3)), gzip(idx({2000000000}, labels3))},
       {"truncated or corrupt"}},
      {"bad crc", {bad_crc, good_labels}, {"images-idx3", "zlib"}},
      {"trailing bytes", {good_images, gzip(idx({3}, labels3 + "x"))}, {"labels-idx1", "unexpected bytes"}},
      {"count mismatch", {good_images, gzip(idx({2}, std::string{1, 2}))}, {"declares 3 images", "2 labels"}},
      {"label 10", {good_images, gzip(idx({3}, std::string{1, 2, 10}))}, {"labels-idx1", "label 2 is 10"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const TempDir dir;
    write_split(dir, c.files);
    auto parts = c.parts;
    parts.push_back(dir.path());
    expect_error([&] { load_fashion_mnist("test", -1, dir.path()); }, parts);
  }
}

TEST(FashionMnist, MissingFilesSayWhichPackageToInstall) {
  const TempDir dir;
  expect_error([&] { load_fashion_mnist("test", -1, dir.path()); },
               {dir.path() + "/t10k-images-idx3-ubyte.gz", "not found",
                "install the Debian package dataset-fashion-mnist (sudo apt-get install dataset-fashion-mnist)"});
  expect_error([&] { load_fashion_mnist("validation", -1, dir.path()); }, {"split 'validation'"});
}

TEST(FashionMnist, CnvInputPadsAndReplicatesGrey) {
  const TempDir dir;
  write_split(dir, good_files());
  const Dataset data = load_fashion_mnist("test", -1, dir.path());
  const Tensor t = cnv_input(data, 1, 2);  // images 1 and 2
  ASSERT_EQ(t.shape, (Shape{2, 3, 32, 32}));
  ASSERT_EQ(t.type, ElemType::kFloat);
  auto at = [&](int n, int c, int y, int x) { return t.f32[static_cast<size_t>(((n * 3 + c) * 32 + y) * 32 + x)]; };
  for (int n = 0; n < 2; ++n) {
    for (int c = 0; c < 3; ++c) {
      for (int y = 0; y < 32; ++y) {
        for (int x = 0; x < 32; ++x) {
          const bool border = y < 2 || y >= 30 || x < 2 || x >= 30;
          const float expected = border ? 0.0F : static_cast<float>(pixel(n + 1, y - 2, x - 2));
          ASSERT_EQ(at(n, c, y, x), expected) << n << " " << c << " " << y << " " << x;
        }
      }
    }
  }
  EXPECT_EQ(at(0, 2, 2, 2), 7.0F);  // image 1, pixel (0, 0): 1 * 7
  expect_error([&] { cnv_input(data, 2, 2); }, {"[2, 4)", "dataset of 3"});
}

TEST(FashionMnist, MnistInputIsTheRawImage) {
  const TempDir dir;
  write_split(dir, good_files());
  const Dataset data = load_fashion_mnist("test", -1, dir.path());
  const Tensor t = mnist_input(data, 2, 1);
  ASSERT_EQ(t.shape, (Shape{1, 1, 28, 28}));
  EXPECT_EQ(t.f32[28 * 10 + 3], static_cast<float>(pixel(2, 10, 3)));
  expect_error([&] { mnist_input(data, -1, 1); }, {"dataset of 3"});
}

// Reads byte `offset` of a gzip'd file straight through zlib, independent of the loader.
int gz_byte_at(const std::string& path, size_t offset) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return -1;
  std::string buffer(offset + 1, '\0');
  const int got = gzread(f, buffer.data(), static_cast<unsigned>(buffer.size()));
  gzclose(f);
  return got == static_cast<int>(buffer.size()) ? static_cast<uint8_t>(buffer[offset]) : -1;
}

TEST(FashionMnistReal, TestSplitHasTenThousandBalancedImages) {
  const std::string labels_file = std::string(kFashionMnistDir) + "/t10k-labels-idx1-ubyte.gz";
  if (!std::filesystem::exists(labels_file)) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const Dataset data = load_fashion_mnist("test");
  EXPECT_EQ(data.count, 10000);
  ASSERT_EQ(data.labels.size(), 10000U);
  EXPECT_EQ(data.labels[0], gz_byte_at(labels_file, 8));  // first label, after the 8-byte header
  EXPECT_EQ(data.labels[9999], gz_byte_at(labels_file, 8 + 9999));
  const std::string images_file = std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz";
  EXPECT_EQ(data.pixels[14 * 28 + 14], gz_byte_at(images_file, 16 + 14 * 28 + 14));
  // The Fashion-MNIST test set is balanced: 1,000 images of each of the 10 classes.
  std::vector<int> per_class(kFashionMnistClasses, 0);
  for (uint8_t label : data.labels) ++per_class[label];
  EXPECT_EQ(per_class, std::vector<int>(kFashionMnistClasses, 1000));
}

}  // namespace
}  // namespace dnnsplit
