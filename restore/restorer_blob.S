/* The restorer's flat image, embedded as bytes in crfs-restore. */
	.section .rodata
	.balign 4096
	.globl restorer_blob
restorer_blob:
	.incbin BLOB
	.globl restorer_blob_end
restorer_blob_end:
	.section .note.GNU-stack,"",@progbits
