# A server is imported by its id; network blocks are filled in from its
# ports, in the order of its NICs. user_data, scheduler_hints and
# block_device are not returned by the compute API and stay as configured.
terraform import stratus_compute_instance.web 9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a
