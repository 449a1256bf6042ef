package translator

// Version gates for single elements and filter kinds. Every protocol-version
// decision that PROTOCOL.md marks as [GUESS] or [INF] lives here, once, so it
// can be changed in one place when better evidence turns up.

// filterKindSupported reports whether a client/customer filter of kind k is
// valid in protocol v (§4).
//   - id: every version (1.3.x filterType has only id).
//   - login: 1.4.0.0+ [DOC/CODE §4.2].
//   - owner-id, owner-login: 1.6.0.0+ [GUESS: §4.2 says unknown whether 1.6.0.x
//     had them; owners exist since 1.6.0.0].
//   - guid, external-id: 1.6.3.0+ [GUESS §4.2].
func filterKindSupported(v Version, k FilterKind) bool {
	switch k {
	case FilterID:
		return true
	case FilterLogin:
		return v.AtLeast(v1400)
	case FilterOwnerID, FilterOwnerLogin:
		return v.AtLeast(v1600)
	case FilterGUID, FilterExternalID:
		return v.AtLeast(v1630)
	}
	return false
}

// descriptorFilterKindSupported: descriptor filters select a client by ID or
// login only (§4.3).
func descriptorFilterKindSupported(k FilterKind) bool {
	return k == FilterID || k == FilterLogin
}

// namedLegacyElements reports whether limits are written as named child
// elements (<limits><max_dom>10</max_dom>) rather than <limit><name/><value/>
// pairs: protocol <= 1.4.2.0 [DOC 9.3/34017, §6.2]. The same switch governs
// permissions ([INF] from the §8 1.5.0.0 row: "limits/permissions as pairs").
func namedLegacyElements(v Version) bool { return v.Less(v1500) }

// overuseSupported reports whether limits may carry the
// <resource-policy><overuse> wrapper. [GUESS] §6.2 says its first version is
// unknown; we send it only with the pair format (1.5.0.0+), the format of the
// 2014 clientLimits type that has it. Decoding accepts it in any version.
func overuseSupported(v Version) bool { return v.AtLeast(v1500) }

// addOwnerSupported: gen_info owner-id / owner-login, 1.6.0.0+ [INF §7.1].
func addOwnerSupported(v Version) bool { return v.AtLeast(v1600) }

// addOwnerExternalIDSupported: gen_info owner-external-id, 1.6.6.0+ [INF from
// §8: present in XSD-1.6.6, absent from what is known of earlier versions].
func addOwnerExternalIDSupported(v Version) bool { return v.AtLeast(v1660) }

// externalIDSupported: gen_info external-id (add and set), 1.6.3.0+ [INF: S4's
// 1.6.3.0 templates use it; absent in legacy §7.1].
func externalIDSupported(v Version) bool { return v.AtLeast(v1630) }

// descriptionSupported: gen_info description (add and set), 1.6.6.0+ [INF §8].
func descriptionSupported(v Version) bool { return v.AtLeast(v1660) }

// templateSupported: legacy add template-name / template-id, 1.4.0.0 up to the
// legacy operator's end [CODE S5, S8; §7.1].
func templateSupported(v Version) bool { return v.AtLeast(v1400) && v.Less(v1630) }

// regenerateGUIDSupported: set gen_info <guid/> (NoneType), modern only. Its
// meaning ("regenerate the GUID") is a [GUESS] (§5.2).
func regenerateGUIDSupported(v Version) bool { return v.AtLeast(v1630) }

// resellerPlanSupported: convert-to-reseller reseller-plan-name, 1.6.3.0+
// [INF §7.10: reseller plans arrived with the 1.6.3 model].
func resellerPlanSupported(v Version) bool { return v.AtLeast(v1630) }

// changeOwnerExtrasSupported: change-owner ipV4-address, ipV6-address and
// plan-name, 1.6.3.0+. The legacy (1.6.0.x) change-owner is assumed to be
// filter + new-owner-login only [GUESS §7.11].
func changeOwnerExtrasSupported(v Version) bool { return v.AtLeast(v1630) }
