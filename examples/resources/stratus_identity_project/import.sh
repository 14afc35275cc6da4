# A project is imported by its id.
terraform import stratus_identity_project.web 0c4e939acacf4376bdcd1129f1a054ad
