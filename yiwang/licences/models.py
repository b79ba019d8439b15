"""Electronic licences (电子证照) as SD-JWT VCs, their issuers' keys and status lists; e-seals."""
