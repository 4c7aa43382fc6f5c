#pragma once
/// @file vcf_writer.hpp
/// Writes the calls of genoforest call as a bgzipped VCF (+ .tbi) or BCF (+ .csi), the index built
/// while writing. The header is complete: contigs from the reference, every FILTER/INFO/FORMAT
/// field defined, the samples, the reference, the version and the command line.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "genoforest/call/caller.hpp"
#include "genoforest/call/reads.hpp"

namespace genoforest::call {

struct VcfHeaderFacts {
  std::vector<RefContig> contigs;
  std::vector<std::string> samples;
  std::string reference;     ///< path, for ##reference
  std::string command_line;  ///< for ##genoforest_callCommand
  double low_qual = 10;      ///< for the LowQual FILTER's description
};

class CallWriter {
 public:
  /// Opens `path` (BCF when `bcf`, else bgzipped VCF) and writes the header; the index goes to
  /// `index_path`; with an empty `index_path`, plain VCF text and no index (`path` "-": standard
  /// output). Throws IoError naming the path.
  CallWriter(const std::filesystem::path& path, const std::filesystem::path& index_path, bool bcf, const VcfHeaderFacts& facts);
  ~CallWriter();
  CallWriter(const CallWriter&) = delete;
  CallWriter& operator=(const CallWriter&) = delete;

  /// Appends the calls of contig `contig` (index into facts.contigs), in order.
  void write(std::size_t contig, const std::vector<SiteCall>& calls);
  /// Flushes, writes the index and closes. Throws IoError.
  void close();
  [[nodiscard]] std::int64_t records() const noexcept { return records_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::int64_t records_ = 0;
};

}  // namespace genoforest::call
