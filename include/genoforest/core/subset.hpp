#pragma once
/// @file subset.hpp
/// Sample and variant subsets, as plink2 takes them: --keep/--remove (sample ID lists) and
/// --extract/--exclude (variant ID lists or BED ranges).
///
/// A sample list has one sample per line: the ID alone, or plink's "FID IID" (the IID is used), with
/// an optional header line starting with '#' ("#FID IID", "#IID") or naming IID / sample_id; blank
/// lines are skipped. A variant list has one variant ID per line (the VCF's ID column, or
/// CHROM:POS:REF:ALT); a file whose lines have three or more fields, the 2nd and 3rd integers, is a
/// BED file of ranges (0-based, half-open), as is any file named *.bed.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "genoforest/core/region.hpp"

namespace genoforest {

/// Reads a sample list. Throws IoError if unreadable, InputError (with the line) for a line of
/// more than two fields (plink's keep files have one or two).
[[nodiscard]] std::vector<std::string> read_sample_list(const std::filesystem::path& path);

/// Which samples a command keeps: those of --keep (all when none), less those of --remove.
struct SampleSubset {
  std::optional<std::unordered_set<std::string>> keep;
  std::unordered_set<std::string> remove;
  std::string keep_file, remove_file;  ///< for messages

  /// Reads the lists (an empty path: none).
  static SampleSubset from_files(const std::string& keep_file, const std::string& remove_file);
  [[nodiscard]] bool active() const noexcept { return keep.has_value() || !remove.empty(); }
  [[nodiscard]] bool kept(const std::string& id) const { return (!keep || keep->count(id)) && !remove.count(id); }
  /// The indices of `samples` kept, ascending. Throws DataError when none is.
  [[nodiscard]] std::vector<std::int64_t> select(const std::vector<std::string>& samples, const std::string& source) const;
  /// "--keep k.txt: 150 of 300 samples kept" (empty when inactive).
  [[nodiscard]] std::string describe(std::size_t kept, std::size_t total) const;
};

/// A variant list: IDs (or CHROM:POS:REF:ALT names) and BED ranges.
struct VariantList {
  std::string file;
  std::unordered_set<std::string> ids;
  /// BED ranges [beg, end) by canonical_contig(), sorted and merged.
  std::map<std::string, std::vector<std::pair<std::int64_t, std::int64_t>>> ranges;
  /// Reads the list or BED file. Throws IoError / InputError (with the line).
  static VariantList read(const std::filesystem::path& path);
  /// Whether the variant (1-based pos) is listed: its ID, its CHROM:POS:REF:ALT name or a range
  /// holding it (contigs as match_contig() matches them: chr1 is 1).
  [[nodiscard]] bool contains(const std::string& chrom, std::int64_t pos, const std::string& id, const std::string& ref,
                              const std::string& alt) const;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & file & ids & ranges;
  }
};

/// Which variants a command keeps: those --extract lists (all when none), less those --exclude lists.
struct VariantSubset {
  bool has_extract = false, has_exclude = false;
  VariantList extract, exclude;
  static VariantSubset from_files(const std::string& extract_file, const std::string& exclude_file);
  [[nodiscard]] bool active() const noexcept { return has_extract || has_exclude; }
  [[nodiscard]] bool kept(const std::string& chrom, std::int64_t pos, const std::string& id, const std::string& ref,
                          const std::string& alt) const {
    return (!has_extract || extract.contains(chrom, pos, id, ref, alt)) && !(has_exclude && exclude.contains(chrom, pos, id, ref, alt));
  }
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & has_extract & has_exclude & extract & exclude;
  }
};

}  // namespace genoforest
