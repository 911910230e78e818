//! Intel SGX SDK signed enclaves (`enclave.signed.so`).
