# A server group is imported by its id.
terraform import stratus_compute_servergroup.web 6a1e2d3c-4b5a-4697-8877-665544332211
