"""Mail the site sends itself over SMTP: DKIM signing (`signing`) and the signing backend."""
