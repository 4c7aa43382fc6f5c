#pragma once
/// @file text.hpp
/// Strict parsing of numbers and delimited lines. Every parser throws on trailing garbage.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace genoforest {

/// Splits `line` at every `sep`; empty fields are kept ("a\t\tb" gives 3 fields).
[[nodiscard]] std::vector<std::string_view> split(std::string_view line, char sep);
/// `s` without leading and trailing spaces, tabs, CR and LF.
[[nodiscard]] std::string_view trim(std::string_view s);

/// The fields of a line separated by runs of blanks (spaces, tabs; a '\r' too): plink's
/// whitespace-delimited files. Empty fields do not exist.
[[nodiscard]] std::vector<std::string> split_blanks(std::string_view line);
/// A whole-string signed integer, or nullopt ("12x", "", overflow). Accepts ',' digit separators
/// only when `allow_commas` (region strings such as "chr1:1,000-2,000").
[[nodiscard]] std::optional<std::int64_t> parse_int(std::string_view s, bool allow_commas = false);
/// A whole-string finite or non-finite double ("nan", "inf" accepted), or nullopt.
[[nodiscard]] std::optional<double> parse_double(std::string_view s);

/// A byte count as SLURM's --mem and plink2's --memory are written: a number with an optional
/// binary unit K, M, G or T (an optional "B" or "iB" after it; no unit: bytes), e.g. "64G",
/// "1.5T", "512MiB"; nullopt for anything else or a size that is not positive.
[[nodiscard]] std::optional<std::int64_t> parse_size(std::string_view s);
/// A byte count for a person: "1.5 GiB", "320.0 MiB", "12 KiB", "100 B".
[[nodiscard]] std::string format_size(std::int64_t bytes);

/// 64-bit FNV-1a hash of bytes: stable across runs and machines (identities, checksums of
/// records), not cryptographic.
[[nodiscard]] std::uint64_t fnv1a64(std::string_view bytes) noexcept;

/// `s` as a JSON string literal, quoted and escaped.
[[nodiscard]] std::string json_string(std::string_view s);
}  // namespace genoforest
