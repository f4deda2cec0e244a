// SHA-256 through OpenSSL's libcrypto (plan.json records the hash of every file it names).
#include <openssl/evp.h>

#include <array>
#include <fstream>
#include <memory>

#include "dnnsplit/error.h"
#include "dnnsplit/partition.h"

namespace dnnsplit::partition {

namespace {

struct DigestContext {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
  DigestContext() {
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) throw Error("sha256: cannot initialise");
  }
  void update(const char* data, size_t size) {
    if (EVP_DigestUpdate(ctx.get(), data, size) != 1) throw Error("sha256: update failed");
  }
  std::string hex() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx.get(), digest.data(), &length) != 1) throw Error("sha256: final failed");
    static const char* kHex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
      out += kHex[digest[i] >> 4];
      out += kHex[digest[i] & 15];
    }
    return out;
  }
};

}  // namespace

std::string sha256_hex(const std::string& bytes) {
  DigestContext digest;
  digest.update(bytes.data(), bytes.size());
  return digest.hex();
}

std::string sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), path + ": cannot open file to compute its sha256");
  DigestContext digest;
  std::array<char, 1 << 16> buffer{};
  while (in) {
    in.read(buffer.data(), buffer.size());
    digest.update(buffer.data(), static_cast<size_t>(in.gcount()));
  }
  check(in.eof(), path + ": read error while computing its sha256");
  return digest.hex();
}

}  // namespace dnnsplit::partition
