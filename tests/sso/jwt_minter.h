// Test-only: a signing key that mints compact JWS tokens (ES256, RS256 or EdDSA) and publishes
// its public half as a JWK, so tests can play an OpenID provider, or a forger with another key.
#ifndef TESTS_SSO_JWT_MINTER_H_
#define TESTS_SSO_JWT_MINTER_H_

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <memory>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "services/identity/oidc_jwt.h"

namespace forecast::testing {

class JwtMinter {
 public:
  // alg: "ES256", "RS256" or "EdDSA".
  JwtMinter(std::string alg, std::string kid) : alg_(std::move(alg)), kid_(std::move(kid)) {
    EVP_PKEY* key = nullptr;
    if (alg_ == "ES256") {
      key = EVP_EC_gen("P-256");
    } else if (alg_ == "RS256") {
      key = EVP_RSA_gen(2048);
    } else {
      EVP_PKEY_CTX* context = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
      EVP_PKEY_keygen_init(context);
      EVP_PKEY_keygen(context, &key);
      EVP_PKEY_CTX_free(context);
    }
    if (key == nullptr) throw std::runtime_error("key generation failed");
    key_.reset(key);
  }

  const std::string& kid() const { return kid_; }

  // The public key as a JWK.
  nlohmann::json PublicJwk() const {
    nlohmann::json jwk = {{"kid", kid_}, {"use", "sig"}, {"alg", alg_}};
    if (alg_ == "ES256") {
      unsigned char point[65];
      size_t length = 0;
      EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point,
                                      &length);
      jwk["kty"] = "EC";
      jwk["crv"] = "P-256";
      jwk["x"] = identity::Base64UrlEncode(std::string(reinterpret_cast<char*>(point) + 1, 32));
      jwk["y"] = identity::Base64UrlEncode(std::string(reinterpret_cast<char*>(point) + 33, 32));
    } else if (alg_ == "RS256") {
      jwk["kty"] = "RSA";
      jwk["n"] = identity::Base64UrlEncode(Bn(OSSL_PKEY_PARAM_RSA_N));
      jwk["e"] = identity::Base64UrlEncode(Bn(OSSL_PKEY_PARAM_RSA_E));
    } else {
      unsigned char raw[32];
      size_t length = sizeof raw;
      EVP_PKEY_get_raw_public_key(key_.get(), raw, &length);
      jwk["kty"] = "OKP";
      jwk["crv"] = "Ed25519";
      jwk["x"] = identity::Base64UrlEncode(std::string(reinterpret_cast<char*>(raw), length));
    }
    return jwk;
  }

  // A compact JWS of `payload`; `header_alg` overrides the header's "alg" (for forgeries).
  std::string Mint(const nlohmann::json& payload, const std::string& header_alg = "") const {
    nlohmann::json header = {
        {"alg", header_alg.empty() ? alg_ : header_alg}, {"typ", "JWT"}, {"kid", kid_}};
    const std::string input =
        identity::Base64UrlEncode(header.dump()) + "." + identity::Base64UrlEncode(payload.dump());
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    EVP_DigestSignInit(context, nullptr, alg_ == "EdDSA" ? nullptr : EVP_sha256(), nullptr,
                       key_.get());
    size_t length = 0;
    EVP_DigestSign(context, nullptr, &length, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::string signature(length, '\0');
    EVP_DigestSign(context, reinterpret_cast<unsigned char*>(signature.data()), &length,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EVP_MD_CTX_free(context);
    signature.resize(length);
    if (alg_ == "ES256") signature = DerToRaw(signature);
    return input + "." + identity::Base64UrlEncode(signature);
  }

 private:
  struct KeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  };

  std::string Bn(const char* name) const {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(key_.get(), name, &bn);
    std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
    BN_free(bn);
    return out;
  }

  static std::string DerToRaw(const std::string& der) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    ECDSA_SIG_free(sig);
    return raw;
  }

  std::string alg_;
  std::string kid_;
  std::unique_ptr<EVP_PKEY, KeyFree> key_;
};

}  // namespace forecast::testing

#endif  // TESTS_SSO_JWT_MINTER_H_
