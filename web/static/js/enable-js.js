// Run first in <body>: GOV.UK Frontend styles its components for script from this class on.
document.body.className += ' js-enabled govuk-frontend-supported';
