#include "genoforest/sim/reads.hpp"

#include <htslib/vcf.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <unordered_map>

#include "genoforest/core/error.hpp"
#include "genoforest/core/rng.hpp"
#include "genoforest/align/fastq.hpp"
#include "genoforest/io/vcf.hpp"

namespace genoforest::sim {

namespace fs = std::filesystem;

void ReadOptions::validate() const {
  if (!(coverage > 0.0 && coverage <= 10'000.0)) throw UsageError("--coverage must be in (0, 10000]");
  if (read_length < 20 || read_length > 10'000) throw UsageError("--read-length must be in [20, 10000]");
  if (!(insert_mean >= 50.0)) throw UsageError("--insert-mean must be at least 50");
  if (!(insert_sd >= 0.0)) throw UsageError("--insert-sd must be >= 0");
  for (auto [v, name] : {std::pair{error_5p, "--error-5p"}, {error_3p, "--error-3p"},
                         {indel_error_rate, "--indel-error-rate"}, {n_rate, "--n-rate"}}) {
    if (!(v >= 0.0 && v <= 0.5)) throw UsageError(std::string(name) + " must be in [0, 0.5]");
  }
}

namespace {

enum Stream : std::uint64_t { kReads = 201 };

constexpr char kBases[] = "ACGT";


/// FNV-1a: a hash of the sample name fixed by this code (std::hash is not).
std::uint64_t name_hash(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

void reverse_complement(std::string& s) {
  std::reverse(s.begin(), s.end());
  for (auto& c : s) c = complement(c);
}

/// The sample's two haplotypes, contig by contig.
std::vector<std::string> build_haplotypes(const Reference& ref, const fs::path& vcf, const std::string& sample) {
  io::HtsFilePtr fp(hts_open(vcf.c_str(), "r"));
  if (!fp) throw InputError(vcf.string(), "cannot open the truth VCF: " + errno_text());
  io::BcfHdrPtr hdr(bcf_hdr_read(fp.get()));
  if (!hdr) throw InputError(vcf.string(), "not a VCF/BCF file, or a corrupt header");
  if (bcf_hdr_set_samples(hdr.get(), sample.c_str(), 0) != 0) {
    throw InconsistentInputError(vcf.string(), "no sample named " + sample);
  }
  std::unordered_map<std::string, std::size_t> contig_of;
  for (std::size_t c = 0; c < ref.names.size(); ++c) contig_of.emplace(ref.names[c], c);
  std::vector<std::string> hap(2 * ref.seqs.size());
  std::vector<std::size_t> done(ref.seqs.size(), 0);  // reference bases consumed per contig
  io::Bcf1Ptr rec = io::make_record();
  io::Genotypes gt;
  std::int64_t n = 0;
  int r;
  while ((r = bcf_read(fp.get(), hdr.get(), rec.get())) == 0) {
    ++n;
    const char* chrom = bcf_seqname(hdr.get(), rec.get());
    const std::string where = vcf.string() + " record " + std::to_string(n) + " (" + chrom + ":" + std::to_string(rec->pos + 1) + ")";
    const auto it = contig_of.find(chrom);
    if (it == contig_of.end()) throw InconsistentInputError(where, "contig not in the reference");
    const std::size_t c = it->second;
    const std::string& seq = ref.seqs[c];
    if (bcf_unpack(rec.get(), BCF_UN_STR) < 0) throw InputError(where, "malformed record");
    const auto pos = static_cast<std::size_t>(rec->pos);
    const std::string ref_allele = rec->d.allele[0];
    if (pos < done[c]) throw InputError(where, "overlaps the previous record or is out of order");
    if (pos + ref_allele.size() > seq.size() || seq.compare(pos, ref_allele.size(), ref_allele) != 0) {
      throw InconsistentInputError(where, "REF " + ref_allele + " does not match the reference");
    }
    io::get_genotypes(hdr.get(), rec.get(), gt, where);
    for (std::size_t h = 0; h < 2; ++h) hap[2 * c + h].append(seq, done[c], pos - done[c]);
    for (std::size_t h = 0; h < 2; ++h) {
      const std::int32_t v = gt.ploidy > static_cast<int>(h) ? gt.values[h] : gt.values[0];
      const int a = bcf_gt_is_missing(v) || v == bcf_int32_vector_end ? 0 : bcf_gt_allele(v);
      if (a < 0 || a >= rec->n_allele) throw InputError(where, "genotype allele out of range");
      hap[2 * c + h] += rec->d.allele[a];
    }
    done[c] = pos + ref_allele.size();
  }
  if (r < -1) throw InputError(vcf.string() + " after record " + std::to_string(n), "truncated or corrupt file");
  for (std::size_t c = 0; c < ref.seqs.size(); ++c) {
    for (std::size_t h = 0; h < 2; ++h) hap[2 * c + h].append(ref.seqs[c], done[c], std::string::npos);
  }
  return hap;
}

/// Sequences `tmpl` (the fragment's bases from the read's 5' end, adapter and random bases past
/// its end) into a read of `length` bases with errors and qualities.
void sequence(const std::string& tmpl, int length, const ReadOptions& o, Rng& rng, std::string& seq, std::string& qual) {
  seq.clear();
  qual.clear();
  std::size_t t = 0;
  const double span = length > 1 ? static_cast<double>(length - 1) : 1.0;
  while (static_cast<int>(seq.size()) < length) {
    const double x = static_cast<double>(seq.size()) / span;
    const double p = o.error_5p + (o.error_3p - o.error_5p) * x * x * x * x;
    const char truth = t < tmpl.size() ? tmpl[t] : kBases[rng.below(4)];
    if (o.indel_error_rate > 0.0 && rng.chance(o.indel_error_rate)) {
      if (rng.chance(0.5)) {
        ++t;  // deletion: a template base is skipped
        continue;
      }
      seq += kBases[rng.below(4)];  // insertion: an extra base
      qual += static_cast<char>(33 + 2 + rng.below(14));
      continue;
    }
    ++t;
    if (o.n_rate > 0.0 && rng.chance(o.n_rate)) {
      seq += 'N';
      qual += static_cast<char>(33 + 2);
      continue;
    }
    if (rng.chance(p)) {
      char b;
      do b = kBases[rng.below(4)]; while (b == truth);
      seq += b;
      qual += static_cast<char>(33 + 2 + rng.below(14));
    } else {
      seq += truth;
      const double q = -10.0 * std::log10(std::max(p, 1e-5)) + 2.0 * rng.normal();
      qual += static_cast<char>(33 + std::clamp(static_cast<int>(std::lround(q)), 15, 41));
    }
  }
}

}  // namespace

ReadCounts simulate_reads(const Reference& ref, const fs::path& truth_vcf, const std::string& sample, const ReadOptions& o,
                          std::uint64_t seed, const fs::path& fastq_1, const fs::path& fastq_2) {
  o.validate();
  const std::vector<std::string> hap = build_haplotypes(ref, truth_vcf, sample);
  align::FastqWriter out1(fastq_1, 2);
  std::unique_ptr<align::FastqWriter> out2;
  if (!o.single_end) out2 = std::make_unique<align::FastqWriter>(fastq_2, 2);
  const std::string adapter = kTruSeqAdapter;
  const auto L = static_cast<std::size_t>(o.read_length);
  ReadCounts counts;
  std::string tmpl, t1, t2, seq, qual, name;
  std::int64_t serial = 0;
  for (std::size_t c = 0; c < ref.seqs.size(); ++c) {
    Rng rng(task_seed(seed, kReads, mix64(name_hash(sample)) ^ c));
    const auto len = static_cast<double>(ref.seqs[c].size());
    const double per_fragment = static_cast<double>(L) * (o.single_end ? 1.0 : 2.0);
    const auto fragments = static_cast<std::int64_t>(std::llround(o.coverage * len / per_fragment));
    for (std::int64_t k = 0; k < fragments; ++k) {
      const std::string& h = hap[2 * c + rng.below(2)];
      if (h.size() < 50) break;
      auto frag = static_cast<std::size_t>(std::max(50.0, std::round(o.insert_mean + o.insert_sd * rng.normal())));
      frag = std::min(frag, h.size());
      const std::size_t start = rng.below(h.size() - frag + 1);
      tmpl.assign(h, start, frag);
      if (rng.chance(0.5)) reverse_complement(tmpl);
      name = sample + "." + std::to_string(++serial);
      t1 = tmpl.substr(0, std::min(frag, L + 8)) + adapter;
      sequence(t1, o.read_length, o, rng, seq, qual);
      out1.write(name, seq, qual);
      counts.reads += 1;
      counts.bases += static_cast<std::int64_t>(seq.size());
      if (out2) {
        t2 = tmpl;
        reverse_complement(t2);
        t2.resize(std::min(frag, L + 8));
        t2 += adapter;
        sequence(t2, o.read_length, o, rng, seq, qual);
        out2->write(name, seq, qual);
        counts.reads += 1;
        counts.bases += static_cast<std::int64_t>(seq.size());
      }
    }
  }
  out1.close();
  if (out2) out2->close();
  return counts;
}

}  // namespace genoforest::sim
