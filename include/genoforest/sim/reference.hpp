#pragma once
/// @file reference.hpp
/// Reference sequences for simulation: a random genome with repeats, or one read from a FASTA.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace genoforest::sim {

/// Contig names and their upper-case sequences.
struct Reference {
  std::vector<std::string> names;
  std::vector<std::string> seqs;
  [[nodiscard]] std::int64_t total_length() const noexcept;
};

/// The complementary base (A<->T, C<->G; anything else gives N).
[[nodiscard]] char complement(char base) noexcept;

/// A random genome of the given contig lengths, named chr1..chrC, deterministic for `seed`.
/// Mapping should not be trivial, so about 12% of it is repeats: 40 families of interspersed
/// elements (300-3000 bp, copies 2-15% diverged, either strand) and short tandem repeats (units of
/// 1-6 bp, 15-60 bp long). GC content 41%.
[[nodiscard]] Reference random_reference(const std::vector<std::int64_t>& lengths, std::uint64_t seed);

/// Reads every contig of a FASTA (plain, gzip or bgzip) through htslib, upper-cased.
/// Throws InputError naming the file for an unreadable or empty FASTA.
[[nodiscard]] Reference load_reference(const std::filesystem::path& fasta);

/// Writes `ref` as FASTA (60 bases a line) to `path` and its `.fai` to `fai_path`.
/// Throws IoError naming the path.
void write_reference(const Reference& ref, const std::filesystem::path& path, const std::filesystem::path& fai_path);

}  // namespace genoforest::sim
