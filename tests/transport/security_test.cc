// validate() and to_string() of security.h, with certificates made by openssl.
#include "synod/transport/security.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "test_certificates.h"
#include "test_security.h"

namespace synod::transport::testing {
namespace {

// validate()'s error, or "" when it accepts.
std::string problem(const TransportSecurity& security) {
  std::string error;
  if (validate(security, &error)) return "";
  EXPECT_FALSE(error.empty());
  return error;
}

TEST(Security, ModesHaveNames) {
  EXPECT_STREQ(to_string(SecurityMode::Plain), "plain");
  EXPECT_STREQ(to_string(SecurityMode::Tls), "tls");
  EXPECT_STREQ(to_string(SecurityMode::MutualTls), "mutual-tls");
  EXPECT_STREQ(to_string(SecurityMode::SharedSecret), "shared-secret");
}

TEST(Security, PlainNeedsNothing) { EXPECT_EQ(problem(TransportSecurity{}), ""); }

TEST(Security, SharedSecretNeedsSixteenBytesASaneSkewAndACache) {
  TransportSecurity s;
  s.mode = SecurityMode::SharedSecret;
  EXPECT_NE(problem(s).find("shared_secret has 0 bytes, needs at least 16"), std::string::npos);
  s.shared_secret = std::string(15, 'k');
  EXPECT_NE(problem(s).find("15 bytes"), std::string::npos);
  s.shared_secret = std::string(16, 'k');
  EXPECT_EQ(problem(s), "");

  s.max_clock_skew = std::chrono::milliseconds(0);
  EXPECT_NE(problem(s).find("max_clock_skew"), std::string::npos);
  s.max_clock_skew = std::chrono::hours(1) + std::chrono::milliseconds(1);
  EXPECT_NE(problem(s).find("max_clock_skew"), std::string::npos);
  s.max_clock_skew = std::chrono::hours(1);
  EXPECT_EQ(problem(s), "");

  s.replay_cache_capacity = 0;
  EXPECT_NE(problem(s).find("replay_cache_capacity"), std::string::npos);
}

TEST(Security, TlsModesAcceptTheTestCertificates) {
  for (SecurityMode mode : {SecurityMode::Tls, SecurityMode::MutualTls}) {
    SCOPED_TRACE(to_string(mode));
    EXPECT_EQ(problem(certificates().security(mode)), "");
    EXPECT_EQ(problem(certificates().other_security(mode)), "");
  }
}

TEST(Security, TlsModesNameWhatIsMissingOrUnreadable) {
  for (SecurityMode mode : {SecurityMode::Tls, SecurityMode::MutualTls}) {
    SCOPED_TRACE(to_string(mode));
    const TransportSecurity good = certificates().security(mode);
    for (std::string TransportSecurity::*field :
         {&TransportSecurity::ca_file, &TransportSecurity::cert_file,
          &TransportSecurity::key_file}) {
      TransportSecurity s = good;
      s.*field = "";
      EXPECT_NE(problem(s).find(std::string("needs ")), std::string::npos);
      s.*field = "/nonexistent/synod.pem";
      EXPECT_NE(problem(s).find("'/nonexistent/synod.pem' cannot be read"), std::string::npos);
    }
  }
}

TEST(Security, TlsModesRefuseFilesThatAreNotWhatTheySay) {
  const TransportSecurity good = certificates().security(SecurityMode::MutualTls);
  const std::string junk =
      (std::filesystem::path(good.ca_file).parent_path() / "junk.pem").string();
  std::ofstream(junk) << "not a certificate\n";

  TransportSecurity s = good;
  s.ca_file = junk;
  EXPECT_NE(problem(s).find("ca_file '" + junk + "' holds no PEM certificate"), std::string::npos);
  s = good;
  s.cert_file = good.key_file;
  EXPECT_NE(problem(s).find("holds no PEM certificate"), std::string::npos);
  s = good;
  s.key_file = good.cert_file;
  EXPECT_NE(problem(s).find("holds no unencrypted PEM private key"), std::string::npos);
  // A key of another certificate.
  s = good;
  s.key_file = certificates().other_key_file;
  EXPECT_NE(problem(s).find("is not the key of cert_file"), std::string::npos);
}

}  // namespace
}  // namespace synod::transport::testing
