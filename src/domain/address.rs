//! Which network addresses caisse may connect to on a merchant's word.
//!
//! A webhook URL is the merchant's input, and caisse connects to it: an address of this
//! machine, of its private network or of the cloud's metadata service would let a merchant
//! reach what no one outside may (SSRF). So only public unicast addresses are dialled, checked
//! on the address actually connected to (after DNS, in whatever spelling the URL gave it:
//! `127.1`, `2130706433`, `0x7f000001` and `[::ffff:127.0.0.1]` are all 127.0.0.1 by then).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `ip` is a public unicast address: not loopback, private, shared (CGNAT), link-local
/// (the metadata service's 169.254.169.254 among them), unique-local, unspecified, multicast,
/// broadcast, reserved or set aside for documentation.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_documentation()
        // "This network" 0.0.0.0/8, shared address space 100.64.0.0/10, IETF protocol
        // assignments 192.0.0.0/24, benchmarking 198.18.0.0/15, reserved 240.0.0.0/4.
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (18..20).contains(&b))
        // The former 6to4 relay anycast 192.88.99.0/24, which forwards into IPv6.
        || (a == 192 && b == 88 && ip.octets()[2] == 99)
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // 6to4 (2002::/16) carries an IPv4 address in its next 32 bits, which a relay reaches.
    if s[0] == 0x2002 {
        let [a, b] = s[1].to_be_bytes();
        let [c, d] = s[2].to_be_bytes();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        // IPv4-compatible (::a.b.c.d, deprecated), documentation 2001:db8::/32, and the
        // NAT64 prefix 64:ff9b::/96, which reaches IPv4 addresses through a gateway.
        || (s[..6] == [0; 6])
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        || (s[0] == 0x64 && s[1] == 0xff9b)
        // Teredo 2001::/32 (IPv4 tunnelled in UDP), IPv4-translated ::ffff:0:a.b.c.d,
        // deprecated site-local fec0::/10, and the discard-only 100::/64.
        || (s[0] == 0x2001 && s[1] == 0)
        || (s[..4] == [0, 0, 0, 0] && s[4] == 0xffff && s[5] == 0)
        || (s[0] & 0xffc0) == 0xfec0
        || (s[..4] == [0x100, 0, 0, 0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().unwrap())
    }

    #[test]
    fn public_unicast_addresses_are_public() {
        for ip in [
            "8.8.8.8",
            "41.202.207.1",
            "196.200.1.1",
            "2a00:1450:4007:80e::200e",
            // 6to4 of a public address.
            "2002:0808:0808::1",
        ] {
            assert!(public(ip), "{ip}");
        }
    }

    #[test]
    fn this_machine_private_networks_and_the_metadata_service_are_not() {
        for ip in [
            "127.0.0.1",
            "127.255.255.254",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "64:ff9b::7f00:1",
            // 6to4 of loopback and of a private network, Teredo, IPv4-translated,
            // site-local, discard-only, and the old 6to4 relay.
            "2002:7f00:1::",
            "2002:a00:1::",
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
            "::ffff:0:7f00:1",
            "fec0::1",
            "100::1",
            "192.88.99.1",
        ] {
            assert!(!public(ip), "{ip}");
        }
    }

    #[test]
    fn every_spelling_of_loopback_in_a_url_is_loopback_once_parsed() {
        for url in [
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://[::ffff:7f00:1]/",
        ] {
            let parsed = url::Url::parse(url).unwrap();
            let ip: IpAddr = match parsed.host().unwrap() {
                url::Host::Ipv4(v4) => v4.into(),
                url::Host::Ipv6(v6) => v6.into(),
                url::Host::Domain(d) => panic!("{url} read as the name {d}"),
            };
            assert!(!is_public(ip), "{url}");
        }
    }
}
