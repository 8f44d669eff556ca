/** What a failed TLS handshake says about the peer's certificate, from Node's error code. */
export type CertificateProblem = 'untrusted' | 'invalid';

/** The chain does not lead to a CA this process trusts. */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
]);

/** A trusted chain, but a certificate not valid for this address or this day. */
const INVALID = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

export function certificateProblem(code: string | undefined): CertificateProblem | undefined {
  if (code === undefined) return undefined;
  if (UNTRUSTED.has(code)) return 'untrusted';
  if (INVALID.has(code)) return 'invalid';
  return undefined;
}
