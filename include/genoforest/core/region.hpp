#pragma once
/// @file region.hpp
/// Genomic intervals. Internally 0-based and half-open [beg, end); user strings are 1-based closed
/// ("chr1:1,001-2,000" is beg 1000, end 2000), BED files are 0-based half-open, as everywhere.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace genoforest {

/// An interval on one contig. `end == kToContigEnd` means "to the end of the contig".
struct Region {
  std::string contig;
  std::int64_t beg = 0;
  std::int64_t end = 0;

  static constexpr std::int64_t kToContigEnd = INT64_MAX;

  /// "chr1:1001-2000" (1-based closed) or "chr1" for a whole contig.
  [[nodiscard]] std::string to_string() const;
  bool operator==(const Region&) const = default;
};

/// Parses "chr", "chr:start", "chr:start-end" (1-based, closed; commas allowed in numbers).
/// A contig name may itself contain ':' (HLA contigs): the last ':' splits only when what follows
/// parses as a range, so a whole contig named "HLA-A*01:01" is written "HLA-A*01:01:1-". Throws UsageError naming the string on a bad range (start > end, start < 1).
[[nodiscard]] Region parse_region(const std::string& text);

/// Parses a comma-separated list of region strings ("chr1:1-100,chr2").
[[nodiscard]] std::vector<Region> parse_region_list(const std::string& text);

/// Reads a BED file (0-based half-open; columns 1-3 used, further ones ignored; "track",
/// "browser" and '#' lines skipped). Throws InputError with the line number on a malformed line.
[[nodiscard]] std::vector<Region> read_bed(const std::filesystem::path& path);

/// The contig's name with a "chr" prefix (any case) dropped and M written MT: one form for the
/// UCSC ("chr1", "chrM") and Ensembl/1000 Genomes ("1", "MT") namings of a contig.
[[nodiscard]] std::string canonical_contig(std::string_view name);

/// The contig of `names` that a user's `wanted` means: `wanted` itself when present, else the one
/// name whose canonical_contig() is wanted's ("chr1" finds "1", "MT" finds "chrM"); empty when
/// none or several match.
[[nodiscard]] std::string match_contig(const std::string& wanted, const std::vector<std::string>& names);

/// Sets each region's contig to the name match_contig() finds among `names` (regions whose
/// contig is not found are left as they are, for the caller to refuse); logs one line per contig
/// matched through an alias ("contig chr1 of --regions is 1 in cohort.vcf.gz"). `source` names
/// the regions' origin, `target` the file whose names they are matched to.
void match_region_contigs(std::vector<Region>& regions, const std::vector<std::string>& names, const std::string& source,
                          const std::string& target);

/// Sorts regions by (contig order given by `contig_rank`, beg) and merges overlapping or adjacent
/// ones on the same contig. `contig_rank(name)` returns the contig's index in the reference.
template <class RankFn>
[[nodiscard]] std::vector<Region> normalise_regions(std::vector<Region> regions, RankFn contig_rank);

}  // namespace genoforest

#include <algorithm>

template <class RankFn>
std::vector<genoforest::Region> genoforest::normalise_regions(std::vector<Region> regions,
                                                              RankFn contig_rank) {
  std::stable_sort(regions.begin(), regions.end(), [&](const Region& a, const Region& b) {
    const auto ra = contig_rank(a.contig), rb = contig_rank(b.contig);
    if (ra != rb) return ra < rb;
    if (a.beg != b.beg) return a.beg < b.beg;
    return a.end < b.end;
  });
  std::vector<Region> out;
  for (auto& r : regions) {
    if (!out.empty() && out.back().contig == r.contig && r.beg <= out.back().end) {
      out.back().end = std::max(out.back().end, r.end);
    } else {
      out.push_back(std::move(r));
    }
  }
  return out;
}
