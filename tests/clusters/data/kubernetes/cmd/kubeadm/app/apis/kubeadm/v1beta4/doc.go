package v1beta4
