// JoinBudget: the per-address and global budgets that bound how fast join codes can be guessed.
#include "pairing/join_budget.hpp"

namespace turnpike {
namespace {

RateSettings per_minute(double budget) {
  return {budget / 60.0, budget};
}

RateSettings address_rate(const Config& config) {
  return per_minute(config.limits.failed_join_per_minute);
}

RateSettings global_rate(const Config& config) {
  return per_minute(config.limits.failed_join_global_per_minute);
}

}  // namespace

std::optional<JoinBudget::Refusal> JoinBudget::spend_create(const Config& config, const IpAddress& address,
                                                            double now) {
  auto rate = address_rate(config);
  if (per_address_.try_take(address, rate, now)) return std::nullopt;
  return Refusal{"address", per_address_.seconds_until_token(address, rate, now)};
}

std::optional<JoinBudget::Refusal> JoinBudget::join_blocked(const Config& config, const IpAddress& address,
                                                            double now) {
  auto rate = address_rate(config);
  if (!per_address_.has_token(address, rate, now)) {
    return Refusal{"address", per_address_.seconds_until_token(address, rate, now)};
  }
  auto global = global_rate(config);
  if (!global_.has_token(global, now)) return Refusal{"global", global_.seconds_until_token(global, now)};
  return std::nullopt;
}

void JoinBudget::count_failed_join(const Config& config, const IpAddress& address, double now) {
  (void)per_address_.try_take(address, address_rate(config), now);
  (void)global_.try_take(global_rate(config), now);
}

void JoinBudget::prune(const Config& config, double now) {
  per_address_.prune(address_rate(config), now);
}

}  // namespace turnpike
