# A key pair is imported by its name.
terraform import stratus_compute_keypair.deploy deploy
