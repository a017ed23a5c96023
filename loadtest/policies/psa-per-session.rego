# The sample policy (psa.rego) plus one added claim taken from the session
# nonce. Reading the nonce makes every evaluation's input unique, so no
# outcome is ever reused: the load test runs it to measure the cost of a
# policy evaluated afresh on every verification (docs/performance.md).
package policy

components := evidence["psa-software-components"]

version_of(kind) = v {
	some i
	components[i]["measurement-type"] == kind
	v := components[i].version
}

bl_ok {
	semver_cmp(version_of("BL"), "2.1.0") >= 0
}

prot_ok {
	semver_cmp(version_of("PRoT"), "1.3.0") >= 0
}

executables = APPROVED_RT {
	bl_ok
	prot_ok
} else = UNSAFE_RT

added_claims = {
	"bl-version": version_of("BL"),
	"prot-version": version_of("PRoT"),
	"nonce-bytes": count(base64url.decode(session.nonce)),
}
