// Public addresses handed to servers when they first become active. IPv4 comes from the
// documentation range of the samples (203.0.113.0/24) and, once its 254 hosts are used, from
// the benchmarking range 198.18.0.0/15 (RFC 2544) so 10,000-server benchmarks still get unique
// addresses; IPv6 from 2001:db8::/32 in the samples' spelling ("2001:0db8::1").

const DOC_NET_HOSTS = 254;
const BENCH_NET_BASE = (198 << 24) | (18 << 16);
const BENCH_NET_HOSTS = 2 ** 17 - 2;

export interface AddressPair {
  ipv4: string;
  ipv6: string;
}

export class AddressPool {
  #next = 0;
  #released: AddressPair[] = [];

  /** A pair no live server holds; reuses released pairs only when fresh ones run out. */
  allocate(): AddressPair {
    if (this.#next < DOC_NET_HOSTS + BENCH_NET_HOSTS) return this.#fresh(this.#next++);
    const reused = this.#released.shift();
    if (reused === undefined) throw new Error('address pool exhausted');
    return reused;
  }

  release(pair: AddressPair): void {
    this.#released.push(pair);
  }

  #fresh(index: number): AddressPair {
    const ipv6 = `2001:0db8::${ipv6Suffix(index + 1)}`;
    // The samples' first server is 203.0.113.10; start there, then wrap to .1–.9.
    if (index < DOC_NET_HOSTS) return { ipv4: `203.0.113.${((index + 9) % DOC_NET_HOSTS) + 1}`, ipv6 };
    const n = BENCH_NET_BASE + 1 + (index - DOC_NET_HOSTS);
    return { ipv4: [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'), ipv6 };
  }
}

/** The interface part of the n-th IPv6 address: at most four hex digits per group. */
function ipv6Suffix(n: number): string {
  const low = (n & 0xffff).toString(16);
  return n > 0xffff ? `${(n >>> 16).toString(16)}:${low}` : low;
}
