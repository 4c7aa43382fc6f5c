#include "stages/call_stage.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include "genoforest/call/reads.hpp"
#include "genoforest/call/vcf_writer.hpp"
#include "genoforest/core/error.hpp"
#include "genoforest/core/files.hpp"
#include "genoforest/core/log.hpp"
#include "genoforest/core/region.hpp"
#include "genoforest/core/subset.hpp"
#include "genoforest/core/text.hpp"
#include "scheduler.hpp"
#include "serialize.hpp"

#include <unistd.h>

namespace genoforest::mpi {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> read_bam_list(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path, "cannot read the BAM list: " + errno_text());
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line);
    if (!line.empty() && line[0] != '#') out.push_back(line);
  }
  if (out.empty()) throw InputError(path, "the BAM list names no file");
  return out;
}

/// Keeps the BAMs of the samples -s/-S name (or all but those, with '^'), as bcftools' -s/-S: a
/// named sample without a BAM is an error.
void select_samples(const CallStageOptions& o, std::vector<std::string>& bams, std::vector<std::string>& samples) {
  if (o.samples.empty() && o.samples_file.empty()) return;
  const bool from_file = !o.samples_file.empty();
  std::string spec = from_file ? o.samples_file : o.samples;
  const bool exclude = spec.starts_with('^');
  if (exclude) spec.erase(0, 1);
  std::vector<std::string> names;
  if (from_file) {
    names = read_sample_list(spec);
  } else {
    for (const auto& n : split(spec, ','))
      if (!trim(n).empty()) names.emplace_back(trim(n));
  }
  const std::set<std::string> listed(names.begin(), names.end());
  const std::set<std::string> present(samples.begin(), samples.end());
  const std::string opt = from_file ? "-S " + o.samples_file : "-s " + o.samples;
  for (const auto& n : names) {
    if (!present.count(n)) {
      throw InconsistentInputError(opt, "sample '" + n + "' has no BAM among the " + std::to_string(samples.size()) +
                                            " given (their samples are the @RG SM names)");
    }
  }
  std::vector<std::string> kb, ks;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (listed.count(samples[i]) != exclude) {
      kb.push_back(bams[i]);
      ks.push_back(samples[i]);
    }
  }
  if (ks.empty()) throw DataError(opt + " leaves none of the " + std::to_string(samples.size()) + " samples");
  log_info(opt + ": " + std::to_string(ks.size()) + " of " + std::to_string(samples.size()) + " samples called");
  bams = std::move(kb);
  samples = std::move(ks);
}

/// The regions to call, in reference order, cut into pieces of at most `size` bp.
std::vector<Region> plan_regions(const std::vector<call::RefContig>& contigs, const CallStageOptions& o) {
  std::map<std::string, std::size_t> rank;
  for (std::size_t i = 0; i < contigs.size(); ++i) rank[contigs[i].name] = i;
  std::vector<Region> wanted;
  if (!o.regions.empty() || !o.regions_file.empty()) {
    wanted = !o.regions.empty() ? parse_region_list(o.regions) : read_bed(o.regions_file);
    const std::string source = !o.regions.empty() ? "--regions" : o.regions_file;
    std::vector<std::string> names;
    for (const auto& c : contigs) names.push_back(c.name);
    match_region_contigs(wanted, names, !o.regions.empty() ? "-r/--regions" : o.regions_file, "the reference " + o.reference);
    for (auto& r : wanted) {
      const auto it = rank.find(r.contig);
      if (it == rank.end()) throw InputError(source, "region " + r.to_string() + ": contig '" + r.contig + "' is not in the reference " + o.reference);
      r.end = std::min(r.end, contigs[it->second].length);
    }
    wanted = normalise_regions(std::move(wanted), [&](const std::string& c) { return rank.at(c); });
  } else {
    for (const auto& c : contigs) wanted.push_back({c.name, 0, c.length});
  }
  std::vector<Region> out;
  for (const auto& r : wanted) {
    for (std::int64_t b = r.beg; b < r.end; b += o.region_size) out.push_back({r.contig, b, std::min(r.end, b + o.region_size)});
  }
  if (out.empty()) throw UsageError("the requested regions are empty");
  return out;
}

struct Plan {
  std::vector<std::string> bams;
  std::vector<std::string> samples;
  std::vector<call::RefContig> contigs;
  std::vector<Region> regions;
  std::vector<std::size_t> region_contig;  // index into contigs
  std::string token;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & bams & samples & token & regions & region_contig;
    std::size_t n = contigs.size();
    ar & n;
    contigs.resize(n);
    for (auto& c : contigs) ar & c.name & c.length;
  }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

void CallStageOptions::validate() const {
  if (bams.empty() && bam_list.empty()) throw UsageError("give the BAM/CRAM files (positional) or --bam-list FILE");
  if (reference.empty()) throw UsageError("-f/--reference FASTA is required");
  if (output.empty()) throw UsageError("-o/--output is required (OUT.vcf.gz or OUT.bcf)");
  if (!output.ends_with(".vcf.gz") && !output.ends_with(".bcf") && !is_stdout_path(output)) {
    throw UsageError("-o/--output must end in .vcf.gz (bgzipped VCF + .tbi) or .bcf (BCF + .csi), or be - "
                     "(plain VCF on standard output): " + output);
  }
  if (!regions.empty() && !regions_file.empty()) throw UsageError("give -r/--regions or -R/--regions-file, not both");
  if (!samples.empty() && !samples_file.empty()) throw UsageError("give -s/--samples or -S/--samples-file, not both");
  if (region_size < 1000) throw UsageError("--region-size must be at least 1000 bp");
  caller.validate();
}

void run_call(const Comm& comm, CallStageOptions o) {
  const auto t0 = std::chrono::steady_clock::now();
  const bool bcf = o.output.ends_with(".bcf");
  const bool to_stdout = is_stdout_path(o.output);  // plain VCF text, no index
  const fs::path index_path = to_stdout ? fs::path() : fs::path(o.output + (bcf ? ".csi" : ".tbi"));
  Plan plan;
  comm.on_root([&] {
    plan.bams = o.bams;
    if (!o.bam_list.empty()) {
      const auto listed = read_bam_list(o.bam_list);
      plan.bams.insert(plan.bams.end(), listed.begin(), listed.end());
    }
    plan.contigs = call::reference_contigs(o.reference);
    std::map<std::string, std::string> seen;  // sample -> BAM
    for (const auto& b : plan.bams) {
      const call::BamSample bam(b, o.reference, plan.contigs);
      const auto [it, fresh] = seen.emplace(bam.sample(), b);
      if (!fresh) {
        throw InconsistentInputError(b, "its sample name '" + bam.sample() + "' (read group SM) is also that of " + it->second +
                                "; every sample must have its own name (fix the @RG SM, e.g. with samtools addreplacerg)");
      }
      plan.samples.push_back(bam.sample());
    }
    select_samples(o, plan.bams, plan.samples);
    plan.regions = plan_regions(plan.contigs, o);
    for (const auto& r : plan.regions) {
      for (std::size_t i = 0; i < plan.contigs.size(); ++i) {
        if (plan.contigs[i].name == r.contig) plan.region_contig.push_back(i);
      }
    }
    std::vector<NamedPath> inputs{{"-f/--reference", o.reference},
                                  {"the reference's index", o.reference + ".fai"},
                                  {"-b/--bam-list", o.bam_list},
                                  {"-R/--regions-file", o.regions_file},
                                  {"-S/--samples-file", o.samples_file.starts_with('^') ? o.samples_file.substr(1) : o.samples_file}};
    for (const auto& b : plan.bams) {
      inputs.push_back({"the input", b});
      for (const char* ext : {".bai", ".csi", ".crai"}) inputs.push_back({"the input's index", b + ext});
    }
    std::vector<NamedPath> outputs{{"-o/--output", o.output, true}};
    if (!to_stdout) outputs.push_back({"the output's index", index_path});
    check_outputs(inputs, outputs);
    plan.token = temp_token();
    std::int64_t bases = 0;
    for (const auto& r : plan.regions) bases += r.end - r.beg;
    char buf[256];
    std::snprintf(buf, sizeof buf, "%zu sample(s), %.2f Mbp in %zu region(s) of up to %lld bp, %d rank(s)", plan.samples.size(),
                  static_cast<double>(bases) / 1e6, plan.regions.size(), static_cast<long long>(o.region_size), comm.size());
    log_info(buf);
  });
  comm.bcast(plan);

  // Rank 0 writes; the output appears under its name only when complete.
  std::optional<AtomicOutput> out, idx;
  std::optional<call::CallWriter> writer;
  comm.on_root([&] {
    call::VcfHeaderFacts facts{plan.contigs, plan.samples, o.reference, o.command_line, o.caller.low_qual};
    if (to_stdout) {
      writer.emplace("-", fs::path(), false, facts);
    } else {
      out.emplace(o.output, plan.token);
      idx.emplace(index_path, plan.token);
      writer.emplace(out->tmp(), idx->tmp(), bcf, facts);
    }
  });

  // Every rank opens the inputs once, at its first task.
  std::vector<call::BamSample> bams;
  std::optional<call::ReferenceReader> ref;
  std::int64_t snps = 0, indels = 0, low = 0;
  TaskSet t;
  t.begin = 0;
  t.end = static_cast<std::int64_t>(plan.regions.size());
  t.describe = [&](std::int64_t k) { return "region " + plan.regions[static_cast<std::size_t>(k)].to_string(); };
  t.run = [&](std::int64_t k) {
    if (!ref) {
      ref.emplace(o.reference);
      for (const auto& b : plan.bams) bams.emplace_back(b, o.reference, plan.contigs, false);  // checked (and warned) at planning
    }
    const Region& r = plan.regions[static_cast<std::size_t>(k)];
    call::RefSpan span;
    span.beg = std::max<std::int64_t>(0, r.beg - call::kRegionPad);
    span.seq = ref->fetch(r.contig, span.beg, r.end + call::kRegionPad);
    std::vector<std::unique_ptr<call::ReadStream>> streams;
    for (auto& b : bams) streams.push_back(b.fetch(r.contig, span.beg, r.end + call::kRegionPad, o.caller.filter, &span));
    return to_bytes(call::call_region(span, r.beg, r.end, streams, o.caller));
  };
  t.commit = [&](std::int64_t k, std::string&& bytes) {
    const auto calls = from_bytes<std::vector<call::SiteCall>>(bytes);
    for (const auto& c : calls) {
      ++(c.indel ? indels : snps);
      low += c.qual < o.caller.low_qual;
    }
    writer->write(plan.region_contig[static_cast<std::size_t>(k)], calls);
  };
  t.journal = "call.regions";
  Progress progress(t.end, "regions");
  t.progress = &progress;
  run_tasks(comm, t);

  comm.on_root([&] {
    writer->close();
    if (out) out->commit();
    if (idx) idx->commit();
    char buf[512];
    std::snprintf(buf, sizeof buf, "called %lld sites (%lld SNP, %lld indel; %lld LowQual) in %zu sample(s) into %s in %.1f s",
                  static_cast<long long>(snps + indels), static_cast<long long>(snps), static_cast<long long>(indels),
                  static_cast<long long>(low), plan.samples.size(), to_stdout ? "standard output" : o.output.c_str(), seconds_since(t0));
    log_info(buf);
  });
}

}  // namespace genoforest::mpi
