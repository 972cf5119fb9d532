package features

const (
	DRAAdminAccess featuregate.Feature = "DRAAdminAccess"
)

var defaultVersionedKubernetesFeatureGates = map[featuregate.Feature]featuregate.VersionedSpecs{
	// DynamicResourceAllocation was removed in 1.99: it has no block here.

	DRAAdminAccess: {
		{Version: version.MustParse("1.32"), Default: false, PreRelease: featuregate.Alpha},
		{Version: version.MustParse("1.36"), Default: true, PreRelease: featuregate.GA, LockToDefault: true}, // remove in 1.99
	},

	DRABrandNew: {
		{Version: version.MustParse("1.99"), Default: false, PreRelease: featuregate.Alpha},
	},

	DRADeviceTaintRules: {
		{Version: version.MustParse("1.35"), Default: false, PreRelease: featuregate.Alpha},
		{Version: version.MustParse("1.99"), Default: true, PreRelease: featuregate.GA, LockToDefault: true},
	},

	DRADeviceTaints: {
		{Version: version.MustParse("1.33"), Default: false, PreRelease: featuregate.Alpha},
		{Version: version.MustParse("1.37"), Default: true, PreRelease: featuregate.GA, LockToDefault: false},
		{Version: version.MustParse("1.99"), Default: true, PreRelease: featuregate.GA, LockToDefault: true},
	},

	DRAFractionalCapacityRange: {
		{Version: version.MustParse("1.37"), Default: false, PreRelease: featuregate.Beta},
		{Version: version.MustParse("1.37"), Default: true, PreRelease: featuregate.Beta, MinCompatibilityVersion: version.MustParse("1.37")},
	},

	DRAResourcePoolStatus: {
		{Version: version.MustParse("1.36"), Default: false, LockToDefault: false, PreRelease: featuregate.Alpha},
	},

	DRAWorkloadResourceClaims: {
		{Version: version.MustParse("1.36"), Default: false, PreRelease: featuregate.Alpha},
		{Version: version.MustParse("1.37"), Default: false, PreRelease: featuregate.Beta},
	},

	KubeletPodResourcesListUseActivePods: {
		{Version: version.MustParse("1.34"), Default: true, PreRelease: featuregate.Deprecated},
	},

	SomeUnrelatedGate: {
		{Version: version.MustParse("1.99"), Default: false, PreRelease: featuregate.Alpha},
	},
}

var defaultKubernetesFeatureGateDependencies = map[featuregate.Feature][]featuregate.Feature{
	DRADeviceTaints: {},
}
