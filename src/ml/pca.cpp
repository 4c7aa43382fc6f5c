#include "genoforest/ml/pca.hpp"

#include <algorithm>
#include <cmath>

#include "genoforest/core/error.hpp"
#include "genoforest/core/rng.hpp"

namespace genoforest::ml {

namespace {
enum Stream : std::uint64_t { kOmega = 301 };
}

void GenotypeSlab::standardise() {
  mean.assign(static_cast<std::size_t>(width), 0.0);
  scale.assign(static_cast<std::size_t>(width), 0.0);
  std::vector<std::int64_t> sum(static_cast<std::size_t>(width), 0), called(static_cast<std::size_t>(width), 0);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int8_t* row = g.data() + i * width;
    for (std::int64_t j = 0; j < width; ++j) {
      if (row[j] >= 0) {
        sum[static_cast<std::size_t>(j)] += row[j];
        ++called[static_cast<std::size_t>(j)];
      }
    }
  }
  for (std::size_t j = 0; j < mean.size(); ++j) {
    if (called[j] == 0) continue;
    const double p = static_cast<double>(sum[j]) / (2.0 * static_cast<double>(called[j]));
    mean[j] = 2.0 * p;
    const double v = 2.0 * p * (1.0 - p);
    scale[j] = v > 1e-12 ? 1.0 / std::sqrt(v) : 0.0;
  }
}

std::int64_t GenotypeSlab::used() const {
  std::int64_t u = 0;
  for (double s : scale) u += s > 0.0;
  return u;
}

SlabMatrix GenotypeSlab::matrix() const {
  // Per column, the standardised value of each code -1 (missing), 0, 1, 2.
  std::vector<float> lut(static_cast<std::size_t>(4 * width), 0.0f);
  for (std::int64_t j = 0; j < width; ++j) {
    const auto ju = static_cast<std::size_t>(j);
    if (scale[ju] <= 0.0) continue;
    for (int g = 0; g <= 2; ++g) lut[4 * ju + static_cast<std::size_t>(g) + 1] = static_cast<float>((g - mean[ju]) * scale[ju]);
  }
  SlabMatrix x(n, width);
  float* out = x.data();
  const std::int8_t* in = g.data();
  for (std::int64_t i = 0; i < n; ++i, out += width, in += width) {
    for (std::int64_t j = 0; j < width; ++j) {
      const int code = std::clamp<int>(in[j], -1, 2) + 1;
      out[j] = lut[static_cast<std::size_t>(4 * j + code)];
    }
  }
  return x;
}

void add_matrix(ExactSum& acc, const Eigen::MatrixXd& m) {
  if (acc.size() != static_cast<std::size_t>(m.size())) throw InternalError("add_matrix: size mismatch");
  for (Eigen::Index c = 0; c < m.cols(); ++c)
    for (Eigen::Index r = 0; r < m.rows(); ++r) acc.add(static_cast<std::size_t>(c * m.rows() + r), m(r, c));
}

void add_random_projection(const GenotypeSlab& s, int l, std::uint64_t seed, ExactSum& acc) {
  Eigen::MatrixXf omega(s.width, l);
  for (std::int64_t j = 0; j < s.width; ++j) {
    Rng rng(task_seed(seed, kOmega, static_cast<std::uint64_t>(s.col0 + j)));
    for (int c = 0; c < l; ++c) omega(j, c) = static_cast<float>(rng.normal());
  }
  add_matrix(acc, (s.matrix() * omega).cast<double>());
}

void add_power_step(const GenotypeSlab& s, const Eigen::MatrixXd& q, ExactSum& acc) {
  const SlabMatrix x = s.matrix();
  const Eigen::MatrixXf z = x.transpose() * q.cast<float>();
  add_matrix(acc, (x * z).cast<double>());
}

void add_projected_gram(const GenotypeSlab& s, const Eigen::MatrixXd& q, ExactSum& acc) {
  const Eigen::MatrixXd b = (q.cast<float>().transpose() * s.matrix()).cast<double>();  // l x width
  add_matrix(acc, b * b.transpose());
}

Eigen::MatrixXd orthonormalize(const Eigen::MatrixXd& y) {
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(y);
  return qr.householderQ() * Eigen::MatrixXd::Identity(y.rows(), y.cols());
}

Eigen::MatrixXd to_matrix(const ExactSum& acc, Eigen::Index rows, Eigen::Index cols) {
  if (static_cast<Eigen::Index>(acc.size()) != rows * cols) throw InternalError("to_matrix: size mismatch");
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index c = 0; c < cols; ++c)
    for (Eigen::Index r = 0; r < rows; ++r) m(r, c) = acc.value(static_cast<std::size_t>(c * rows + r));
  return m;
}

PcaResult finish_pca(const Eigen::MatrixXd& q, const Eigen::MatrixXd& t, int k, std::int64_t variants_used) {
  const Eigen::MatrixXd sym = 0.5 * (t + t.transpose());
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(sym);
  if (es.info() != Eigen::Success) throw DataError("PCA: the eigen-decomposition did not converge");
  const Eigen::Index l = sym.rows();
  PcaResult r;
  r.variants_used = variants_used;
  r.scores.resize(q.rows(), k);
  for (int c = 0; c < k; ++c) {
    const Eigen::Index src = l - 1 - c;  // ascending order from Eigen
    Eigen::VectorXd v = q * es.eigenvectors().col(src);
    v.normalize();
    Eigen::Index at = 0;
    v.cwiseAbs().maxCoeff(&at);
    if (v(at) < 0) v = -v;
    r.scores.col(c) = v;
    r.eigenvalues.push_back(es.eigenvalues()(src) / static_cast<double>(std::max<std::int64_t>(1, variants_used)));
  }
  return r;
}

}  // namespace genoforest::ml
