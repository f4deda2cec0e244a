// Errors that reach the user. Every failure that bad input can cause is a dnnsplit::Error whose
// message names the problem (file, node, field); the CLI prints it as one line and exits 2.
#pragma once

#include <stdexcept>
#include <string>

namespace dnnsplit {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Throws Error(message) when condition is false. For validating input, not for internal invariants.
inline void check(bool condition, const std::string& message) {
  if (!condition) throw Error(message);
}

}  // namespace dnnsplit
