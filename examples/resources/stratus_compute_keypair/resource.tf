# Import an existing public key.
resource "stratus_compute_keypair" "deploy" {
  name       = "deploy"
  public_key = file("~/.ssh/id_ed25519.pub")
}

# Or let Nova generate the pair; the private key is then in the state.
resource "stratus_compute_keypair" "generated" {
  name = "generated"
}
