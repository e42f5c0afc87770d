// The scheduler's arithmetic: which host a flavor goes to.
#include "compute/scheduler.h"

#include <gtest/gtest.h>

namespace ciel::compute {
namespace {

TEST(Scheduler, MostFreeRamFirst) {
  std::vector<HostCapacity> hosts{{"a", 8, 1024, "tcg"}, {"b", 8, 4096, "tcg"}, {"c", 8, 2048, "tcg"}};
  EXPECT_EQ(pick_host(hosts, 1, 512), std::optional<std::size_t>(1));
}

TEST(Scheduler, SkipsHostsWithoutRoom) {
  // b has the most RAM but too few vCPUs; c has vCPUs but too little RAM.
  std::vector<HostCapacity> hosts{{"a", 2, 600, "tcg"}, {"b", 0, 4096, "tcg"}, {"c", 16, 100, "tcg"}};
  EXPECT_EQ(pick_host(hosts, 1, 512), std::optional<std::size_t>(0));
  EXPECT_EQ(pick_host(hosts, 3, 512), std::nullopt);
}

TEST(Scheduler, ExactFitCountsAndOverAllocationDoesNot) {
  std::vector<HostCapacity> hosts{{"a", 1, 256, "tcg"}};
  EXPECT_EQ(pick_host(hosts, 1, 256), std::optional<std::size_t>(0));
  EXPECT_EQ(pick_host(hosts, 1, 257), std::nullopt);
  EXPECT_EQ(pick_host(hosts, 2, 256), std::nullopt);
  // A capacity lowered below what runs there leaves negative room: nothing fits.
  std::vector<HostCapacity> over{{"a", -1, -128, "tcg"}};
  EXPECT_EQ(pick_host(over, 0, 0), std::nullopt);
}

TEST(Scheduler, TiesGoToMoreVcpusThenTheName) {
  std::vector<HostCapacity> hosts{{"b", 4, 1024, "tcg"}, {"a", 4, 1024, "tcg"}, {"c", 8, 1024, "tcg"}};
  EXPECT_EQ(pick_host(hosts, 1, 256), std::optional<std::size_t>(2));
  hosts[2].free_vcpus = 4;
  EXPECT_EQ(pick_host(hosts, 1, 256), std::optional<std::size_t>(1));
}

TEST(Scheduler, NoHostsNoChoice) { EXPECT_EQ(pick_host({}, 1, 1), std::nullopt); }

}  // namespace
}  // namespace ciel::compute
