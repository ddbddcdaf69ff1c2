#ifndef MAILAUDIT_COPENSSL_SHIM_H
#define MAILAUDIT_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/crypto.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/bn.h>

// Function-like macros do not import into Swift: each one used from Swift gets a prefixed
// static inline wrapper here (see C-LIBRARIES.md).

/// SSL_set_tlsext_host_name: the SNI name to send (RFC 6066 §3). The name is copied.
static inline int mailaudit_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

/// SSL_CTX_set_min_proto_version, for example TLS1_VERSION.
static inline int mailaudit_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

/// sk_X509_num: the number of certificates in a stack (-1 for NULL).
static inline int mailaudit_sk_X509_num(const STACK_OF(X509) *stack) {
    return sk_X509_num(stack);
}

/// sk_X509_value: a borrowed certificate from a stack; never freed by the caller.
static inline X509 *mailaudit_sk_X509_value(const STACK_OF(X509) *stack, int index) {
    return sk_X509_value(stack, index);
}

/// sk_GENERAL_NAME_num over the result of X509_get_ext_d2i(NID_subject_alt_name).
static inline int mailaudit_sk_GENERAL_NAME_num(const GENERAL_NAMES *names) {
    return sk_GENERAL_NAME_num(names);
}

/// sk_GENERAL_NAME_value: borrowed from the stack.
static inline const GENERAL_NAME *mailaudit_sk_GENERAL_NAME_value(const GENERAL_NAMES *names, int index) {
    return sk_GENERAL_NAME_value(names, index);
}

/// The GEN_* type of a general name (GEN_DNS, GEN_IPADD, …).
static inline int mailaudit_GENERAL_NAME_type(const GENERAL_NAME *name) {
    return name->type;
}

/// The string of a DNS, IP address, e-mail or URI general name, borrowed; NULL for other types.
static inline const ASN1_STRING *mailaudit_GENERAL_NAME_string(const GENERAL_NAME *name) {
    switch (name->type) {
    case GEN_DNS: return name->d.dNSName;
    case GEN_IPADD: return name->d.iPAddress;
    case GEN_EMAIL: return name->d.rfc822Name;
    case GEN_URI: return name->d.uniformResourceIdentifier;
    default: return NULL;
    }
}

/// X509_NAME_print_ex with the RFC 2253 flags (a composite macro), for example "CN=mx.example,O=Example".
static inline int mailaudit_X509_NAME_print_rfc2253(BIO *bio, const X509_NAME *name) {
    return X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
}

/// BIO_get_mem_data: points `data` at the memory BIO's bytes (borrowed) and returns their count.
static inline long mailaudit_BIO_get_mem_data(BIO *bio, char **data) {
    return BIO_get_mem_data(bio, data);
}

/// OPENSSL_free, for strings OpenSSL allocated for the caller.
static inline void mailaudit_OPENSSL_free(void *pointer) {
    OPENSSL_free(pointer);
}

/// The reason code of a packed error code, as ERR_GET_REASON (a macro or an inline function,
/// depending on the OpenSSL version).
static inline int mailaudit_ERR_GET_REASON(unsigned long code) {
    return ERR_GET_REASON(code);
}

/// SSL_R_UNEXPECTED_EOF_WHILE_READING: the peer closed the connection in the middle of a record
/// or of the handshake.
static inline int mailaudit_SSL_R_UNEXPECTED_EOF_WHILE_READING(void) {
    return SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

#endif
