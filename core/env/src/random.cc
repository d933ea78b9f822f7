#include "synod/env/random.h"

#include <random>

namespace synod::env {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Random::Random(std::uint64_t seed) {
  // Spread one seed over the whole state; xoshiro must not start from all zeros, which
  // splitmix64 never produces four times in a row.
  for (auto& word : state_) word = splitmix64(seed);
}

Random Random::from_entropy() {
  std::random_device device;
  return Random((std::uint64_t(device()) << 32) ^ device());
}

std::uint64_t Random::next() {
  const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

std::uint64_t Random::below(std::uint64_t bound) {
  // Rejection sampling removes the bias of a plain modulo.
  const std::uint64_t limit = bound == 0 ? 0 : (~std::uint64_t(0) - bound + 1) % bound;
  std::uint64_t x = next();
  while (x < limit) x = next();
  return bound == 0 ? 0 : x % bound;
}

std::uint64_t Random::between(std::uint64_t lo, std::uint64_t hi) {
  if (hi - lo == ~std::uint64_t(0)) return next();
  return lo + below(hi - lo + 1);
}

double Random::unit() { return double(next() >> 11) * 0x1.0p-53; }

bool Random::chance(double p) { return unit() < p; }

}  // namespace synod::env
