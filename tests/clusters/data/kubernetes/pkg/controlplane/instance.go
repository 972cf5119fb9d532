package controlplane

import (
	appsv1 "k8s.io/api/apps/v1"
	resourcev1 "k8s.io/api/resource/v1"
	resourcev1alpha3 "k8s.io/api/resource/v1alpha3"
	resourcev1beta2 "k8s.io/api/resource/v1beta2"
	schedulingapiv1 "k8s.io/api/scheduling/v1"
	schedulingapiv1alpha2 "k8s.io/api/scheduling/v1alpha2"
)

var (
	stableAPIGroupVersionsEnabledByDefault = []schema.GroupVersion{
		appsv1.SchemeGroupVersion,
		resourcev1.SchemeGroupVersion,
		schedulingapiv1.SchemeGroupVersion,
	}

	betaAPIGroupVersionsDisabledByDefault = []schema.GroupVersion{
		resourcev1beta2.SchemeGroupVersion,
	}

	alphaAPIGroupVersionsDisabledByDefault = []schema.GroupVersion{
		resourcev1alpha3.SchemeGroupVersion,
		schedulingapiv1alpha2.SchemeGroupVersion,
	}
)
