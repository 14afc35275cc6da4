# An image is imported by its id; where its data came from is not imported.
terraform import stratus_images_image.debian 2b3c4d5e-6f70-4819-a2b3-c4d5e6f70819
