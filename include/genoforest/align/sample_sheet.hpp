#pragma once
/// @file sample_sheet.hpp
/// The sample sheet of `genoforest align`: a TSV with a header naming its columns.
///
/// Required: sample_id, fastq_1. Optional: fastq_2 (empty for single-end), label, and read-group
/// fields read_group (ID; default the sample ID), library (LB; default the sample ID), platform
/// (PL; default ILLUMINA), platform_unit (PU), center (CN). FASTQ paths are relative to the
/// sheet's folder unless absolute. Lines starting with '#' and blank lines are skipped.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace genoforest::align {

struct SampleEntry {
  std::string id;
  std::filesystem::path fastq_1, fastq_2;  ///< fastq_2 empty: single-end
  std::string label;
  std::string read_group, library, platform, platform_unit, center;
  std::int64_t line = 0;  ///< where it was declared
  [[nodiscard]] bool paired() const noexcept { return !fastq_2.empty(); }
  /// "@RG\tID:..\tSM:..\tLB:..\tPL:.." (plus PU and CN when given).
  [[nodiscard]] std::string read_group_line() const;
};

/// Reads and checks the sheet: the columns, a sample ID per line, no ID twice, no tab or space in
/// IDs. Throws InputError naming the file and line. Does not open the FASTQ files.
/// Why `id` cannot be a sample ID (it names the sample's output files), or "" when it can: letters,
/// digits and `._-+:@=,#%`, not starting with '.' or '-', 1 to 200 characters.
[[nodiscard]] std::string sample_id_problem(std::string_view id);

[[nodiscard]] std::vector<SampleEntry> read_sample_sheet(const std::filesystem::path& path);

}  // namespace genoforest::align
