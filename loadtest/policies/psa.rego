# A PSA policy of the kind Veraison's integration tests ship as their sample
# (`psa.rego`): it approves the runtime only when the bootloader and the
# PSA root of trust are at least the given versions, compared with the
# preamble's semver_cmp, and says which versions it saw. The load test
# activates it (`vouch-loadtest run --policy loadtest/policies/psa.rego`) to
# measure what evaluating a policy on every verification costs.
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
}
