#include "genoforest/align/bam.hpp"

#include <algorithm>
#include <cstdio>
#include <queue>
#include <span>
#include <tuple>

#include "genoforest/core/error.hpp"

namespace genoforest::align {

namespace fs = std::filesystem;

void AlignCounts::add(const AlignCounts& o) {
  records += o.records;
  primary += o.primary;
  mapped += o.mapped;
  properly_paired += o.properly_paired;
  secondary += o.secondary;
  supplementary += o.supplementary;
  duplicates += o.duplicates;
}

std::string AlignCounts::to_json(int indent) const {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  auto frac = [&](std::int64_t a) { return primary > 0 ? static_cast<double>(a) / static_cast<double>(primary) : 0.0; };
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "{\n%s  \"records\": %lld,\n%s  \"primary\": %lld,\n%s  \"mapped\": %lld,\n%s  \"mapped_fraction\": %.6f,\n"
                "%s  \"properly_paired\": %lld,\n%s  \"properly_paired_fraction\": %.6f,\n%s  \"secondary\": %lld,\n"
                "%s  \"supplementary\": %lld,\n%s  \"duplicates\": %lld,\n%s  \"duplicate_fraction\": %.6f\n%s}",
                pad.c_str(), static_cast<long long>(records), pad.c_str(), static_cast<long long>(primary), pad.c_str(),
                static_cast<long long>(mapped), pad.c_str(), frac(mapped), pad.c_str(), static_cast<long long>(properly_paired),
                pad.c_str(), frac(properly_paired), pad.c_str(), static_cast<long long>(secondary), pad.c_str(),
                static_cast<long long>(supplementary), pad.c_str(), static_cast<long long>(duplicates), pad.c_str(),
                frac(duplicates), pad.c_str());
  return buf;
}

SamHdrPtr parse_header(const std::string& text) {
  SamHdrPtr h(sam_hdr_parse(text.size(), text.c_str()));
  if (!h) throw InternalError("htslib rejected the SAM header");
  return h;
}

namespace {

constexpr char kTemplTag[] = "xp";
constexpr char kLineTag[] = "xl";

/// Sort key: reference (unmapped last), position, strand, template, line.
using Key = std::tuple<std::uint32_t, std::int64_t, int, std::uint32_t, std::uint32_t>;

std::uint32_t tag_value(const bam1_t* b, const char* tag) {
  const uint8_t* p = bam_aux_get(b, tag);
  if (!p) throw InternalError(std::string("a chunk record lacks its ") + tag + " tag");
  return static_cast<std::uint32_t>(bam_aux2i(p));
}

Key key_of(const bam1_t* b) {
  return {static_cast<std::uint32_t>(b->core.tid), b->core.pos, bam_is_rev(b) ? 1 : 0, tag_value(b, kTemplTag),
          tag_value(b, kLineTag)};
}

/// Unclipped 5' end of a mapped read.
std::int64_t unclipped_5p(const bam1_t* b) {
  const uint32_t* cig = bam_get_cigar(b);
  const uint32_t n = b->core.n_cigar;
  auto clip = [](uint32_t c) {
    const int op = bam_cigar_op(c);
    return op == BAM_CSOFT_CLIP || op == BAM_CHARD_CLIP ? static_cast<std::int64_t>(bam_cigar_oplen(c)) : 0;
  };
  if (!bam_is_rev(b)) {
    std::int64_t lead = 0;
    for (uint32_t i = 0; i < n && clip(cig[i]) > 0; ++i) lead += clip(cig[i]);
    return b->core.pos - lead;
  }
  std::int64_t tail = 0;
  for (uint32_t i = n; i-- > 0 && clip(cig[i]) > 0;) tail += clip(cig[i]);
  return bam_endpos(b) - 1 + tail;
}

std::int32_t quality_score(const bam1_t* b) {
  const uint8_t* q = bam_get_qual(b);
  std::int32_t s = 0;
  for (int i = 0; i < b->core.l_qseq; ++i) s += q[i] >= 15 ? q[i] : 0;
  return s;
}

bool mapped_primary(const bam1_t* b) {
  return !(b->core.flag & (BAM_FUNMAP | BAM_FSECONDARY | BAM_FSUPPLEMENTARY));
}

struct HtsCloser {
  void operator()(samFile* f) const noexcept { if (f) sam_close(f); }
};
using SamFilePtr = std::unique_ptr<samFile, HtsCloser>;

}  // namespace

std::vector<std::uint8_t> decide_duplicates(std::vector<DupSignature> sigs, std::size_t n_templates) {
  std::vector<std::uint8_t> dup(n_templates, 0);
  auto end_key = [](std::int32_t tid, std::int32_t pos, std::uint8_t rev) { return std::tuple{tid, pos, rev}; };
  auto pair_key = [](const DupSignature& s) { return std::tuple{s.tid1, s.pos1, s.rev1, s.tid2, s.pos2, s.rev2}; };
  // Pairs first, fragments after, in place: the keys of a whole sample can be large.
  const auto split_at = std::partition(sigs.begin(), sigs.end(), [](const DupSignature& s) { return !s.fragment; });
  std::span<DupSignature> pairs(sigs.begin(), split_at), frags(split_at, sigs.end());
  auto better = [](const DupSignature& a, const DupSignature& b) {
    return a.score != b.score ? a.score > b.score : a.templ < b.templ;
  };
  std::sort(pairs.begin(), pairs.end(), [&](const DupSignature& a, const DupSignature& b) {
    return pair_key(a) != pair_key(b) ? pair_key(a) < pair_key(b) : better(a, b);
  });
  for (std::size_t i = 1; i < pairs.size(); ++i) {
    if (pair_key(pairs[i]) == pair_key(pairs[i - 1])) dup.at(pairs[i].templ) = 3;
  }
  std::vector<std::tuple<std::int32_t, std::int32_t, std::uint8_t>> pair_ends;
  for (const auto& s : pairs) {
    pair_ends.push_back(end_key(s.tid1, s.pos1, s.rev1));
    pair_ends.push_back(end_key(s.tid2, s.pos2, s.rev2));
  }
  std::sort(pair_ends.begin(), pair_ends.end());
  std::sort(frags.begin(), frags.end(), [&](const DupSignature& a, const DupSignature& b) {
    const auto ka = end_key(a.tid1, a.pos1, a.rev1), kb = end_key(b.tid1, b.pos1, b.rev1);
    return ka != kb ? ka < kb : better(a, b);
  });
  for (std::size_t i = 0; i < frags.size(); ++i) {
    const auto k = end_key(frags[i].tid1, frags[i].pos1, frags[i].rev1);
    const bool shadowed = std::binary_search(pair_ends.begin(), pair_ends.end(), k) ||
                          (i > 0 && end_key(frags[i - 1].tid1, frags[i - 1].pos1, frags[i - 1].rev1) == k);
    if (shadowed) dup.at(frags[i].templ) |= static_cast<std::uint8_t>(1u << frags[i].mate);
  }
  return dup;
}

ChunkBuilder::ChunkBuilder(const sam_hdr_t* hdr) : hdr_(hdr) {}

ChunkBuilder::~ChunkBuilder() {
  for (bam1_t* b : recs_) bam_destroy1(b);
  ks_free(&line_);
}

void ChunkBuilder::add(std::uint32_t templ, const std::string& sam1, const std::string* sam2) {
  const bam1_t* primary[2] = {nullptr, nullptr};
  std::uint32_t line = 0;
  for (int mate = 0; mate < (sam2 ? 2 : 1); ++mate) {
    const std::string& text = mate == 0 ? sam1 : *sam2;
    std::size_t at = 0;
    while (at < text.size()) {
      std::size_t nl = text.find('\n', at);
      if (nl == std::string::npos) nl = text.size();
      line_.l = 0;
      kputsn(text.data() + at, nl - at, &line_);
      at = nl + 1;
      bam1_t* b = bam_init1();
      if (!b) throw InternalError("out of memory");
      recs_.push_back(b);
      if (sam_parse1(&line_, const_cast<sam_hdr_t*>(hdr_), b) < 0) {
        throw InternalError("cannot parse bwa's SAM line: " + std::string(line_.s, std::min<std::size_t>(line_.l, 200)));
      }
      const int64_t t = templ, l = line++;
      if (bam_aux_update_int(b, kTemplTag, t) < 0 || bam_aux_update_int(b, kLineTag, l) < 0) throw InternalError("cannot tag a record");
      if (mapped_primary(b)) primary[mate] = b;
    }
  }
  DupSignature s;
  s.templ = templ;
  if (primary[0] && primary[1]) {
    std::tuple e1{primary[0]->core.tid, unclipped_5p(primary[0]), bam_is_rev(primary[0]) ? 1 : 0};
    std::tuple e2{primary[1]->core.tid, unclipped_5p(primary[1]), bam_is_rev(primary[1]) ? 1 : 0};
    if (e2 < e1) std::swap(e1, e2);
    s.tid1 = std::get<0>(e1);
    s.pos1 = static_cast<std::int32_t>(std::get<1>(e1));
    s.rev1 = static_cast<std::uint8_t>(std::get<2>(e1));
    s.tid2 = std::get<0>(e2);
    s.pos2 = static_cast<std::int32_t>(std::get<1>(e2));
    s.rev2 = static_cast<std::uint8_t>(std::get<2>(e2));
    s.score = quality_score(primary[0]) + quality_score(primary[1]);
    sigs_.push_back(s);
  } else {
    for (int mate = 0; mate < 2; ++mate) {
      if (!primary[mate]) continue;
      s.fragment = 1;
      s.mate = static_cast<std::uint8_t>(mate);
      s.tid1 = primary[mate]->core.tid;
      s.pos1 = static_cast<std::int32_t>(unclipped_5p(primary[mate]));
      s.rev1 = bam_is_rev(primary[mate]) ? 1 : 0;
      s.score = quality_score(primary[mate]);
      sigs_.push_back(s);
    }
  }
}

void ChunkBuilder::write(const fs::path& path) {
  std::vector<std::pair<Key, bam1_t*>> order;
  order.reserve(recs_.size());
  for (bam1_t* b : recs_) order.emplace_back(key_of(b), b);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  // Level 0 (stored blocks): a temporary file is not worth compressing. ("wbu" crashes htslib
  // 1.16 built with libdeflate in bgzf_compress.)
  SamFilePtr fp(sam_open(path.c_str(), "wb0"));
  if (!fp) throw IoError("cannot write " + path.string() + ": " + errno_text());
  if (sam_hdr_write(fp.get(), hdr_) < 0) throw IoError("cannot write " + path.string());
  for (const auto& [k, b] : order) {
    if (sam_write1(fp.get(), hdr_, b) < 0) throw IoError("cannot write " + path.string() + " (disk full?)");
  }
  if (sam_close(fp.release()) != 0) throw IoError("cannot close " + path.string() + " (disk full?)");
}

AlignCounts merge_chunks(const std::vector<fs::path>& chunks, const sam_hdr_t* hdr, const std::vector<std::uint8_t>& dups,
                         const fs::path& out, const fs::path& index_path, AlignFormat format, const fs::path& reference,
                         int threads) {
  struct Input {
    SamFilePtr fp;
    SamHdrPtr hdr;
    bam1_t* b = nullptr;
    Key key;
  };
  std::vector<Input> in(chunks.size());
  auto advance = [&](std::size_t i) {
    const int r = sam_read1(in[i].fp.get(), in[i].hdr.get(), in[i].b);
    if (r < -1) throw InputError(chunks[i].string(), "truncated or corrupt temporary chunk");
    if (r == -1) return false;
    in[i].key = key_of(in[i].b);
    return true;
  };
  using Head = std::pair<Key, std::size_t>;
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heap;
  struct Cleanup {
    std::vector<Input>& in;
    ~Cleanup() {
      for (auto& x : in) if (x.b) bam_destroy1(x.b);
    }
  } cleanup{in};
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    in[i].fp.reset(sam_open(chunks[i].c_str(), "r"));
    if (!in[i].fp) throw InputError(chunks[i].string(), "cannot open the temporary chunk: " + errno_text());
    in[i].hdr.reset(sam_hdr_read(in[i].fp.get()));
    if (!in[i].hdr) throw InputError(chunks[i].string(), "corrupt temporary chunk header");
    in[i].b = bam_init1();
    if (advance(i)) heap.emplace(in[i].key, i);
  }
  SamFilePtr fp(sam_open(out.c_str(), format == AlignFormat::kCram ? "wc" : "wb"));
  if (!fp) throw IoError("cannot write " + out.string() + ": " + errno_text());
  if (format == AlignFormat::kCram && hts_set_fai_filename(fp.get(), reference.c_str()) != 0) {
    throw InputError(reference.string(), "cannot use this FASTA (and its .fai) as the CRAM reference");
  }
  if (threads > 1 && hts_set_threads(fp.get(), threads) != 0) throw IoError("cannot start compression threads for " + out.string());
  if (sam_hdr_write(fp.get(), hdr) < 0) throw IoError("cannot write " + out.string());
  // BAM: index while writing (no second pass over the file); CSI when a contig is too long for BAI.
  const bool bam = format == AlignFormat::kBam;
  int min_shift = 0;
  for (int t = 0; t < sam_hdr_nref(hdr); ++t)
    if (sam_hdr_tid2len(hdr, t) > (1LL << 29) - 1) min_shift = 14;
  if (bam && sam_idx_init(fp.get(), const_cast<sam_hdr_t*>(hdr), min_shift, index_path.c_str()) != 0) {
    throw IoError("cannot start the index " + index_path.string());
  }
  AlignCounts c;
  while (!heap.empty()) {
    const std::size_t i = heap.top().second;
    heap.pop();
    bam1_t* b = in[i].b;
    const std::uint32_t templ = std::get<3>(in[i].key);
    const int mate = (b->core.flag & BAM_FREAD2) ? 1 : 0;
    if (templ >= dups.size()) throw InternalError("template index beyond the duplicate table");
    const bool mapped = !(b->core.flag & BAM_FUNMAP);
    if (mapped && (dups[templ] >> mate & 1)) b->core.flag |= BAM_FDUP;
    for (const char* tag : {kTemplTag, kLineTag}) {
      if (uint8_t* p = bam_aux_get(b, tag)) bam_aux_del(b, p);
    }
    ++c.records;
    if (b->core.flag & BAM_FSECONDARY) {
      ++c.secondary;
    } else if (b->core.flag & BAM_FSUPPLEMENTARY) {
      ++c.supplementary;
    } else {
      ++c.primary;
      c.mapped += mapped;
      c.properly_paired += (b->core.flag & BAM_FPROPER_PAIR) != 0;
      c.duplicates += (b->core.flag & BAM_FDUP) != 0;
    }
    if (sam_write1(fp.get(), hdr, b) < 0) throw IoError("cannot write " + out.string() + " (disk full?)");
    if (advance(i)) heap.emplace(in[i].key, i);
  }
  if (bam && sam_idx_save(fp.get()) != 0) throw IoError("cannot write the index " + index_path.string());
  if (sam_close(fp.release()) != 0) throw IoError("cannot close " + out.string() + " (disk full?)");
  if (!bam && sam_index_build3(out.c_str(), index_path.c_str(), min_shift, std::max(threads, 1)) < 0) {
    throw IoError("cannot index " + out.string());
  }
  return c;
}

}  // namespace genoforest::align
