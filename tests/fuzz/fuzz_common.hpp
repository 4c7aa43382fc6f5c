#pragma once
/// @file fuzz_common.hpp
/// What every libFuzzer target shares: the input as a file (our readers take paths), and the rule
/// for exceptions. A genoforest::Error that is not an InternalError is the expected answer to a bad
/// input (one line, a documented exit code); anything else — an InternalError, another exception,
/// a crash, a sanitizer report — is a finding, and aborts so that libFuzzer keeps the input.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>

#include "genoforest/core/error.hpp"

namespace genoforest::fuzz {

/// Writes the input to a file named with `suffix` (one per process, rewritten at each input).
inline std::filesystem::path as_file(const std::uint8_t* data, std::size_t size, const std::string& suffix) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto path = dir / ("gf-fuzz-" + std::to_string(::getpid()) + suffix);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  if (std::fclose(f) != 0) std::abort();
  return path;
}

/// Runs `body`, accepting the errors a bad input should give.
template <class F>
void expect_clean(F&& body) {
  try {
    body();
  } catch (const InternalError& e) {
    std::fprintf(stderr, "finding: %s\n", e.what());
    std::abort();
  } catch (const Error&) {
    // a refusal with a message: the right answer to a bad input
  } catch (const std::exception& e) {
    std::fprintf(stderr, "finding: an exception that is not genoforest's own: %s\n", e.what());
    std::abort();
  }
}

}  // namespace genoforest::fuzz
