package rest

import (
	schedulingapiv1 "k8s.io/api/scheduling/v1"
	schedulingapiv1alpha2 "k8s.io/api/scheduling/v1alpha2"
)

func (p RESTStorageProvider) v1Storage() {
	if resource := "priorityclasses"; apiResourceConfigSource.ResourceEnabled(schedulingapiv1.SchemeGroupVersion.WithResource(resource)) {
	}
}

func (p RESTStorageProvider) v1alpha2Storage() {
	if resource := "workloads"; apiResourceConfigSource.ResourceEnabled(schedulingapiv1alpha2.SchemeGroupVersion.WithResource(resource)) {
	}
}
